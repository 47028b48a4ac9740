import { readFile } from "node:fs/promises";
import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { readStreams } from "./streams.js";
import type { StreamDefinition } from "./definitions.js";
import { ApiError } from "@streamgate/protocol/errors";

/** The schemas a gateway serves: loaded at run time, so new event types need no rebuild. */
export interface Schemas {
  registry: FileRegistry;
  streams: ReadonlyMap<string, StreamDefinition>;
}

export const DEFAULT_DESCRIPTOR_SET = new URL("../../generated/descriptors.binpb", import.meta.url);

export async function loadSchemas(descriptorSet: string | URL = DEFAULT_DESCRIPTOR_SET): Promise<Schemas> {
  const bytes = await readFile(descriptorSet);
  return schemasFromDescriptorSet(bytes);
}

export function schemasFromDescriptorSet(bytes: Uint8Array): Schemas {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  const streams = readStreams([...registry.files]);
  return { registry, streams: new Map(streams.map((s) => [s.name, s])) };
}

/** The stream declared under this name, or not_found. */
export function requireStream(schemas: Schemas, name: string): StreamDefinition {
  const stream = schemas.streams.get(name);
  if (!stream) throw new ApiError("not_found", `stream "${name}" is not declared in the gateway's schemas`);
  return stream;
}
