import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { TS_PROTO_OPTIONS } from "./ts-proto-options.js";

/** A file of a package streamgate depends on, found from here (wherever npm put it). */
export const packageFile = (name: string, file: string): string => join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), file);

/** buf's binary, as installed with streamgate. */
export const bufBinary = (): string => packageFile("@bufbuild/buf", "bin/buf");

/** Our plugin beside this file: plugin.js when built, plugin.ts under tsx (whose loader execArgv carries). */
const PLUGIN = fileURLToPath(new URL(`./plugin${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));

/** streamgate's own schemas (the stream and event options), shipped with the package. */
export const OWN_PROTO_DIR = join(dirname(PLUGIN), "..", "..", "proto");

export interface TemplateOptions {
  /** Where ts-proto writes the message types. */
  messagesOut: string;
  /** Where our plugin writes the typed stream descriptors; none: messages only. */
  streamsOut?: string;
  /** Our plugin's runtime_import: where descriptors import defineStream from. */
  runtimeImport?: string;
  /** Our plugin's messages_import: ts-proto's output as seen from streamsOut. */
  messagesImport?: string;
  /** How to run our plugin; default: this Node, as this process runs (tsx included), on PLUGIN. */
  pluginCommand?: string[];
}

/**
 * The buf.gen template (as JSON, which `buf generate --template` takes inline) for ts-proto with
 * TS_PROTO_OPTIONS and our plugin: the one definition `streamgate codegen`, the repository's
 * `npm run codegen` and the tests that generate code all use. strategy all: the plugin sees
 * every file at once, which its cross-file checks (undeclared or duplicate streams) need.
 */
export function bufTemplate(options: TemplateOptions): string {
  const plugins: object[] = [{ local: packageFile("ts-proto", "protoc-gen-ts_proto"), out: options.messagesOut, strategy: "all", opt: [...TS_PROTO_OPTIONS] }];
  if (options.streamsOut) {
    const opt = ["target=ts", "import_extension=js"];
    if (options.runtimeImport) opt.push(`runtime_import=${options.runtimeImport}`);
    if (options.messagesImport) opt.push(`messages_import=${options.messagesImport}`);
    plugins.push({ local: options.pluginCommand ?? [process.execPath, ...process.execArgv, PLUGIN], out: options.streamsOut, strategy: "all", opt });
  }
  return JSON.stringify({ version: "v2", clean: true, plugins });
}
