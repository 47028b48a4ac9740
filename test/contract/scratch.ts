/**
 * Scratch buf workspaces for schema fixtures: copies of proto modules in a temp dir, generated
 * like `npm run codegen` does it (ts-proto messages + our stream plugin, same options), built
 * into a descriptor set a gateway can load, and the generated stream module imported at run time.
 */
import { cp, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnyStreamDescriptor } from "@streamgate/protocol/stream";
import { repoRoot, run, type RunResult } from "../codegen/exec.js";
import { bufTemplate } from "../../src/codegen/buf-template.js";
import { keepNegativeZero } from "../../src/codegen/ts-proto-fixups.js";

export const BUF = join(repoRoot, "node_modules/.bin/buf");

export interface Workspace {
  dir: string;
  /** The whole workspace built: every module's files and their imports. */
  descriptorSet: string;
  /** The generated stream index (…/gen/streams/index.ts). */
  streamsIndex: string;
  /** Imports the generated stream index: its `streams` array. */
  importStreams(): Promise<readonly AnyStreamDescriptor[]>;
  remove(): Promise<void>;
}

export interface WorkspaceOptions {
  /** Module directory name in the workspace → directory to copy it from. */
  modules: Record<string, string>;
  /** The modules to generate TypeScript for (their imports come along, as in codegen). */
  generate: string[];
  prefix?: string;
}

/** Fails with the command's output when it does not exit 0. */
export async function mustRun(file: string, args: string[], cwd: string): Promise<RunResult> {
  const result = await run(file, args, { cwd });
  if (result.code !== 0) throw new Error(`${file} ${args.join(" ")} (in ${cwd}) exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

export async function createWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? "streamgate-contract-"));
  try {
    // Generated code imports @bufbuild/protobuf; this lets Node find the repository's copy.
    await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    for (const [name, from] of Object.entries(options.modules)) await cp(from, join(dir, name), { recursive: true });
    await writeFile(
      join(dir, "buf.yaml"),
      ["version: v2", "modules:", ...Object.keys(options.modules).map((m) => `  - path: ${m}`), "breaking:", "  use:", "    - WIRE_JSON", ""].join("\n"),
    );
    const streamsOut = join(dir, "gen", "streams");
    // As npm run codegen generates, with the runtime import pointing from the scratch output
    // back to this repository's protocol/src/stream.ts.
    const runtimeImport = relative(streamsOut, join(repoRoot, "protocol", "src", "stream.js")).split("\\").join("/");
    const template = bufTemplate({
      messagesOut: "gen/ts",
      streamsOut: "gen/streams",
      runtimeImport,
      messagesImport: "../ts",
      pluginCommand: [join(repoRoot, "node_modules/.bin/tsx"), join(repoRoot, "src/codegen/plugin.ts")],
    });
    for (const module of options.generate) await mustRun(BUF, ["generate", module, "--template", template], dir);
    // The same fix-ups `npm run codegen` applies to ts-proto's output.
    keepNegativeZero(join(dir, "gen", "ts"));
    const descriptorSet = join(dir, "descriptors.binpb");
    await mustRun(BUF, ["build", "-o", descriptorSet], dir);
    const streamsIndex = join(streamsOut, "index.ts");
    return {
      dir,
      descriptorSet,
      streamsIndex,
      async importStreams() {
        const module = (await import(/* @vite-ignore */ pathToFileURL(streamsIndex).href)) as { streams: readonly AnyStreamDescriptor[] };
        return module.streams;
      },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export const repo = (...parts: string[]) => join(repoRoot, ...parts);
