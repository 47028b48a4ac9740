import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileRegistry, fromBinary, getExtension, hasExtension, setExtension, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { STREAM_OPTION } from "../../src/schema/streams.js";

/**
 * The shipped example schemas with every stream (or those named in `only`) declared with
 * `replicas` replicas, written as a descriptor set for STREAMGATE_DESCRIPTOR_SET.
 */
export async function writeReplicatedSchemas(replicas: number, only?: readonly string[]): Promise<{ path: string; remove(): Promise<void> }> {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../../generated/descriptors.binpb", import.meta.url)));
  const streamOption = createFileRegistry(set).getExtension(STREAM_OPTION);
  if (!streamOption) throw new Error(`the shipped descriptor set lacks ${STREAM_OPTION}`);
  for (const file of set.file) {
    if (!file.options || !hasExtension(file.options, streamOption)) continue;
    const declared = getExtension(file.options, streamOption);
    if (only && !only.includes((declared as { name: string }).name)) continue;
    setExtension(file.options, streamOption, { ...(declared as object), replicas } as typeof declared);
  }
  const dir = await mkdtemp(join(tmpdir(), "streamgate-replicated-schemas-"));
  const path = join(dir, "descriptors.binpb");
  await writeFile(path, toBinary(FileDescriptorSetSchema, set));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
