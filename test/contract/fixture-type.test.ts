/**
 * Adding an event type needs no test code. A fixture schema (test/fixtures/contract/extra/)
 * declares a new stream, `fixture`, with a new event type; this file only builds a scratch buf
 * workspace holding the repository's schemas plus the fixture, generates it the way
 * `npm run codegen` does, starts a gateway on the built descriptor set, imports the generated
 * stream module at run time and hands both to the unchanged contract harness, which never
 * names the type: everything it does comes from the descriptor.
 */
import { readFile } from "node:fs/promises";
import { schemasFromDescriptorSet } from "../../src/schema/registry.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { contractSuite } from "./harness.js";
import { createWorkspace, repo, type Workspace } from "./scratch.js";

let workspace: Workspace | undefined;
let gateway: TestGateway | undefined;

contractSuite(
  "contract: a fixture stream and event type added to the schemas, no test code changed",
  async () => {
    workspace = await createWorkspace({
      prefix: "streamgate-contract-fixture-",
      modules: { proto: repo("proto"), "test-proto": repo("test", "proto"), fixture: repo("test", "fixtures", "contract", "extra") },
      generate: ["fixture"],
    });
    const typed = await workspace.importStreams();
    gateway = await startTestGateway({ STREAMGATE_DESCRIPTOR_SET: workspace.descriptorSet, STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    const schemas = schemasFromDescriptorSet(await readFile(workspace.descriptorSet));
    // The workspace's generated code declares only the fixture's stream(s): test those.
    return { gateway, schemas, typed, streams: typed.map((s) => s.name), seed: 7 };
  },
  async () => {
    await gateway?.close();
    await workspace?.remove();
  },
);
