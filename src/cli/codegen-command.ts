import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { keepNegativeZero } from "../codegen/ts-proto-fixups.js";
import { bufBinary, bufTemplate, OWN_PROTO_DIR } from "../codegen/buf-template.js";
import { staleGenerated } from "../codegen/compare-trees.js";
import { UsageError } from "./usage-error.js";

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
      const differences = staleGenerated([options.out], (root) => generate(join(root, options.out)));
      if (differences.length > 0) {
        console.error(`${options.out} is not what streamgate codegen makes:\n  ${differences.join("\n  ")}`);
        process.exitCode = 1;
      }
    });
}

/** buf lint, then buf generate with ts-proto and our plugin, then buf build for the descriptor set. */
function generate(out: string): void {
  const buf = (...args: string[]) => execFileSync(bufBinary(), args, { stdio: "inherit" });
  // streamgate's own schemas are a module of the workspace (see init's buf.yaml): used, not generated.
  const ours = relative(process.cwd(), join(OWN_PROTO_DIR, "streamgate"));
  buf("lint");
  buf("generate", "--template", bufTemplate({ messagesOut: join(out, "ts"), streamsOut: join(out, "streams") }), "--exclude-path", ours);
  keepNegativeZero(join(out, "ts"));
  buf("build", "-o", join(out, "descriptors.binpb"));
}
