/**
 * CI's smoke check of the benchmark harness: `npm run bench -- --quick` completes every
 * scenario, on real processes, with no event lost or repeated. It asserts nothing about speed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import type { Aggregated } from "../../bench/harness/aggregate.js";
import { scenarios } from "../../bench/scenarios/index.js";

const out = await mkdtemp(join(tmpdir(), "streamgate-bench-quick-"));
afterAll(() => rm(out, { recursive: true, force: true }));

test("every scenario of the quick bench completes without losing or repeating an event", { timeout: 240_000 }, async () => {
  const child = spawn("npx", ["tsx", "bench/run.ts", "--quick", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect(code, output).toBe(0);

  const report = JSON.parse(await readFile(join(out, "latest.json"), "utf8")) as { failures: unknown[]; measurements: Aggregated[] };
  expect(report.failures).toEqual([]);
  expect(new Set(report.measurements.map((m) => m.scenario))).toEqual(new Set(scenarios.map((s) => s.name)));
  for (const measurement of report.measurements) {
    expect({ scenario: measurement.scenario, metric: measurement.metric, lost: measurement.lost, repeated: measurement.repeated }).toEqual({
      scenario: measurement.scenario,
      metric: measurement.metric,
      lost: 0,
      repeated: 0,
    });
    expect(Object.values(measurement.values).every(Number.isFinite), measurement.metric).toBe(true);
  }
});
