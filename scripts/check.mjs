#!/usr/bin/env node
// npm test: everything CI checks, in order, stopping at the first failure.
//   1. generated/ is exactly what `npm run codegen` makes (this also runs buf lint)
//   2. the TypeScript type check, then the build (dist/ of the three packages)
//   3. vitest, against real nats-server processes (not the fault suite: see FAULT_SUITE)
//   4. the bench's quick smoke (test/bench), alone: it loads both cores, and other tests beside it
//      would measure that load instead of themselves
// Extra arguments go to vitest and leave out step 4 (e.g. `npm test -- test/typed`).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = (name) => join("node_modules", ".bin", name);

function step(title, command, args) {
  console.log(`\n== ${title}`);
  const started = Date.now();
  const { status } = spawnSync(command, args, { stdio: "inherit" });
  console.log(`== ${title}: ${status === 0 ? "ok" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (status !== 0) process.exit(status ?? 1);
}

step("codegen is up to date (buf lint + buf generate)", bin("tsx"), ["scripts/codegen.ts", "--check"]);

// Schemas must stay wire- and JSON-compatible with what main had: clients and stored events
// depend on it. The baseline is origin/main when the clone has it, else the previous commit.
const git = (...args) => spawnSync("git", args, { encoding: "utf8" });
const base = ["origin/main", "HEAD~1"].find((ref) => git("rev-parse", "--verify", "--quiet", ref).status === 0);
if (base && git("ls-tree", "--name-only", base, "buf.yaml").stdout.trim()) {
  step(`buf breaking against ${base}`, bin("buf"), ["breaking", "--against", `.git#ref=${git("rev-parse", base).stdout.trim()}`]);
} else {
  console.log("\n== buf breaking: no earlier schemas in this clone to compare with");
}
step("type check", bin("tsc"), ["-p", "tsconfig.json", "--noEmit"]);
// The packages' dist/: what npm start runs and the install test packs.
step("build", bin("tsc"), ["-b", "tsconfig.build.json", "clients/tsconfig.build.json"]);

const extra = process.argv.slice(2);
const BENCH_SMOKE = "test/bench/**";
// The fault suite (npm run test:faults) is not part of npm test yet: it measures failover on a
// cluster under load against issue 13's bars, and some of those bars are not met yet.
const FAULT_SUITE = ["test/faults/*-faults.test.ts", "test/backbone/failover.test.ts"];
const scratch = mkdtempSync(join(tmpdir(), "streamgate-vitest-"));
const report = join(scratch, "report.json");
console.log("\n== vitest");
const vitest = spawnSync(
  bin("vitest"),
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...(extra.length > 0 ? extra : [BENCH_SMOKE, ...FAULT_SUITE].flatMap((pattern) => ["--exclude", pattern]))],
  { stdio: "inherit" },
);
let summary = "vitest: no report written";
try {
  const r = JSON.parse(readFileSync(report, "utf8"));
  summary = `vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`;
  if (r.numTotalTests === 0) summary = "vitest: 0 passed, 1 failed (no test ran)";
} catch {
  // The summary line below then says there was no report, and the exit status fails the run.
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\n${summary}`);
if (vitest.status !== 0 || extra.length > 0) process.exit(vitest.status ?? 1);
step("bench smoke (npm run bench -- --quick)", bin("vitest"), ["run", "test/bench"]);
