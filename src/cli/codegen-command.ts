import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { keepNegativeZero } from "../codegen/ts-proto-fixups.js";
import { TS_PROTO_OPTIONS } from "../codegen/ts-proto-options.js";
import { compareTrees } from "../codegen/compare-trees.js";
import { UsageError } from "./usage-error.js";

/** A file of a package streamgate depends on, found from here (wherever npm put it). */
const packageFile = (name: string, file: string) => join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), file);
/** Our plugin beside this file: plugin.js when built, plugin.ts under tsx (whose loader execArgv carries). */
const PLUGIN = fileURLToPath(new URL(`../codegen/plugin${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));

export interface CodegenOptions {
  out: string;
  check?: boolean;
}

export function addCodegenCommand(program: Command): void {
  program
    .command("codegen")
    .description(
      "lint the schemas of buf.yaml (buf lint), generate their messages (ts-proto) and typed stream descriptors, " +
        "and write the descriptor set the gateway serves",
    )
    .option("--out <dir>", "where generated code and descriptors.binpb go", "generated")
    .option("--check", "generate into a scratch directory and fail if --out differs (for CI)")
    .action((options: CodegenOptions) => {
      if (!existsSync("buf.yaml")) throw new UsageError("no buf.yaml here: run codegen in the project's root (streamgate init makes one)");
      if (!options.check) return void generate(options.out);
      const scratch = mkdtempSync(join(tmpdir(), "streamgate-codegen-"));
      try {
        generate(join(scratch, "out"));
        const differences = compareTrees(options.out, join(scratch, "out"));
        if (differences.length > 0) {
          console.error(`${options.out} is not what streamgate codegen makes:\n  ${differences.join("\n  ")}`);
          process.exitCode = 1;
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
}

/** buf lint, then buf generate with ts-proto and our plugin, then buf build for the descriptor set. */
function generate(out: string): void {
  const bufBinary = packageFile("@bufbuild/buf", "bin/buf");
  const buf = (...args: string[]) => execFileSync(bufBinary, args, { stdio: "inherit" });
  // streamgate's own schemas (the stream option) are a module of the workspace: used, not generated.
  const ours = relative(process.cwd(), join(dirname(PLUGIN), "..", "..", "proto", "streamgate"));
  const template = {
    version: "v2",
    clean: true,
    plugins: [
      { local: packageFile("ts-proto", "protoc-gen-ts_proto"), out: join(out, "ts"), strategy: "all", opt: [...TS_PROTO_OPTIONS] },
      { local: [process.execPath, ...process.execArgv, PLUGIN], out: join(out, "streams"), strategy: "all", opt: ["target=ts", "import_extension=js"] },
    ],
  };
  buf("lint");
  buf("generate", "--template", JSON.stringify(template), "--exclude-path", ours);
  keepNegativeZero(join(out, "ts"));
  buf("build", "-o", join(out, "descriptors.binpb"));
}
