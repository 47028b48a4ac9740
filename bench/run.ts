/**
 * npm run bench [-- --quick] [--only a,b] [--reps N] [--out dir]
 *
 * Builds the package, runs every scenario (each repetition on fresh processes, every system of
 * a scenario in the same repetition), and writes the medians as JSON, an SVG chart and a
 * markdown table (stdout). Exits 1 if a scenario failed or any event was lost or repeated;
 * `--quick` (small sizes, one repetition) is the CI smoke check and asserts nothing about speed.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { aggregate } from "./harness/aggregate.js";
import { chartSvg } from "./harness/chart.js";
import { benchContext } from "./harness/context.js";
import { describeMachine } from "./harness/machine.js";
import { Scope } from "./harness/scope.js";
import { BENCH_DIR, REPO_DIR } from "./harness/spawn.js";
import { markdownTable } from "./harness/table.js";
import type { Measurement } from "./harness/types.js";
import { scenarios } from "./scenarios/index.js";

const USAGE = "usage: npm run bench -- [--quick] [--only <scenario,...>] [--reps N] [--out <dir>]";

function options() {
  try {
    const { values } = parseArgs({
      options: { quick: { type: "boolean", default: false }, only: { type: "string" }, reps: { type: "string" }, out: { type: "string" } },
      strict: true,
    });
    const reps = Number(values.reps ?? (values.quick ? 1 : 3));
    if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number ≥ 1, not ${values.reps}`);
    const only = values.only?.split(",").map((name) => name.trim()).filter(Boolean);
    const unknown = only?.filter((name) => !scenarios.some((scenario) => scenario.name === name)) ?? [];
    if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(", ")}; there are ${scenarios.map((s) => s.name).join(", ")}`);
    // A quick run must not overwrite the committed record of a full one.
    const out = values.out ?? join(BENCH_DIR, "results", values.quick ? "quick" : "");
    return { quick: values.quick, reps, out, selected: scenarios.filter((scenario) => !only || only.includes(scenario.name)) };
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}

const { quick, reps, out, selected } = options();
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
process.env.PATH = `${process.env.PATH}:/usr/sbin`;

log("building the package (npm run build)");
const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: REPO_DIR, stdio: ["ignore", "inherit", "inherit"] });
if (build.status !== 0) {
  log("the build failed");
  process.exit(1);
}

const started = Date.now();
const machine = describeMachine();
const measured: Measurement[] = [];
const failures: Array<{ scenario: string; repetition: number; error: string }> = [];
let current: Scope | undefined;
// Interrupted (Ctrl-C, a CI timeout): stop what the repetition started, so nothing lingers.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void (current?.close(log) ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
for (const scenario of selected) {
  for (let repetition = 1; repetition <= reps; repetition++) {
    log(`${scenario.name}: repetition ${repetition} of ${reps}`);
    const scope = (current = new Scope());
    try {
      measured.push(...(await scenario.run(benchContext(quick, scope, log))));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${scenario.name} failed: ${message}`);
      failures.push({ scenario: scenario.name, repetition, error: message });
    } finally {
      await scope.close(log);
    }
  }
}

const rows = aggregate(measured);
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
await mkdir(out, { recursive: true });
await writeFile(
  join(out, "latest.json"),
  `${JSON.stringify({ command, date: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), quick, reps, machine, failures, measurements: rows }, null, 2)}\n`,
);
const title = `streamgate vs baselines: ${machine.cores} cores, Node ${machine.node}, ${machine.natsServer}, medians of ${reps}`;
await writeFile(join(out, "chart.svg"), chartSvg(rows, title));
console.log(markdownTable(rows));

// Every row of a scenario carries the whole scenario's count: take one row per scenario.
const perScenario = new Map(rows.map((row) => [row.scenario, row]));
const lost = [...perScenario.values()].reduce((sum, row) => sum + row.lost, 0);
const repeated = [...perScenario.values()].reduce((sum, row) => sum + row.repeated, 0);
log(`wrote ${join(out, "latest.json")} and chart.svg in ${Math.round((Date.now() - started) / 1000)} s; lost ${lost}, repeated ${repeated}, failed ${failures.length}`);
process.exit(failures.length > 0 || lost > 0 || repeated > 0 ? 1 : 0);
