/**
 * The schema-driven contract suite (./harness.ts): every event type of every stream in
 * generated/test/descriptors.binpb (the served schemas plus the test-only ones, e.g. a type with
 * every field kind), FULL_CYCLE generated messages each, published five ways and read back
 * seven ways; every copy must equal its original. CONTRACT_SEED=<n> reruns with other messages.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { streams as servedStreams } from "../../generated/streams/index.js";
import { streams as testStreams } from "../../generated/test/streams/index.js";
import { schemasFromDescriptorSet } from "../../src/schema/registry.js";
import type { AnyStreamDescriptor } from "@streamgate/protocol/stream";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { contractSuite } from "./harness.js";

const DESCRIPTOR_SET = fileURLToPath(new URL("../../generated/test/descriptors.binpb", import.meta.url));
const SEED = Number(process.env.CONTRACT_SEED ?? 20_261_122);

let gateway: TestGateway | undefined;

contractSuite(
  "contract: every event type of the test descriptor set",
  async () => {
    gateway = await startTestGateway({ STREAMGATE_DESCRIPTOR_SET: DESCRIPTOR_SET, STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    return {
      gateway,
      schemas: schemasFromDescriptorSet(await readFile(DESCRIPTOR_SET)),
      typed: [...servedStreams, ...testStreams] as readonly AnyStreamDescriptor[],
      seed: SEED,
    };
  },
  async () => {
    await gateway?.close();
  },
);
