// npm run codegen: lint the schemas, generate code into generated/, and write the descriptor
// sets the gateway loads at run time (generated/descriptors.binpb; tests also use
// generated/test/descriptors.binpb, which adds the test-only schemas).
// npm run codegen -- --check: generate into a scratch directory and fail if generated/ differs.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { bufBinary, bufTemplate } from "../src/codegen/buf-template.js";
import { staleGenerated } from "../src/codegen/compare-trees.js";
import { keepNegativeZero } from "../src/codegen/ts-proto-fixups.js";

const run = (...args: string[]) => execFileSync(bufBinary(), args, { stdio: "inherit" });
const check = process.argv.includes("--check");
/** The wire messages, generated into the @streamgate/protocol package rather than generated/. */
const PROTOCOL_FILES = ["proto/streamgate/v1/event.proto", "proto/streamgate/v1/frames.proto"];
/** Every directory codegen writes. */
const OUTPUTS = ["generated", "protocol/generated"];

/**
 * Everything codegen writes, under `root`: the served schemas (proto/) into generated/, their
 * wire messages into protocol/generated/, the test-only ones (test/proto/) into
 * generated/test/. The gateway's descriptor set holds only the served schemas; the test one
 * holds both.
 */
function generate(root?: string) {
  const into = root ? ["-o", root] : [];
  const out = (path: string) => ["-o", join(root ?? ".", path)];
  const served = bufTemplate({ messagesOut: "generated/ts", streamsOut: "generated/streams" });
  run("generate", "proto", "--template", served, ...PROTOCOL_FILES.flatMap((file) => ["--exclude-path", file]), ...into);
  run("generate", "proto", "--template", bufTemplate({ messagesOut: "protocol/generated" }), ...PROTOCOL_FILES.flatMap((file) => ["--path", file]), ...into);
  run("generate", "test/proto", "--template", bufTemplate({ messagesOut: "generated/test/ts", streamsOut: "generated/test/streams" }), ...into);
  for (const dir of ["generated/ts", "generated/test/ts", "protocol/generated"]) keepNegativeZero(join(root ?? ".", dir));
  run("build", "proto", ...out("generated/descriptors.binpb"));
  run("build", ...out("generated/test/descriptors.binpb"));
}

run("lint");
if (!check) {
  generate();
  process.exit(0);
}

const differences = staleGenerated(OUTPUTS, generate);
if (differences.length > 0) {
  console.error("generated code is not what `npm run codegen` makes from proto/:");
  for (const d of differences) console.error("  " + d);
  console.error("Run `npm run codegen` and commit the result.");
  process.exit(1);
}
console.log(`${OUTPUTS.join(" and ")} are up to date`);
