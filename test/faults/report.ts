/**
 * The fault suite's output: a table per fault, one row per kind of reader, printed; and every
 * fault's rows, measurements and findings in one JSON file per test file.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckResult, Row } from "./checker.js";

/** Where the JSON summaries go: FAULT_SUITE_REPORT, else a directory under the system's temporary one. */
export const REPORT_DIR = process.env.FAULT_SUITE_REPORT ?? join(tmpdir(), "streamgate-faults");

/** What a fault measured beyond the table, by name (e.g. takeover time), in milliseconds or counts. */
/** Milliseconds as seconds with one decimal, as the tables print them. */
export const seconds = (ms: number): string => (ms / 1000).toFixed(1);

export type Measurements = Record<string, number | string>;

const COLUMNS: [string, (r: Row) => string][] = [
  ["reader", (r) => r.reader],
  ["n", (r) => String(r.count)],
  ["events", (r) => String(r.events)],
  ["lost", (r) => String(r.lost)],
  ["dup", (r) => (r.unexplainedDuplicates > 0 ? `${r.duplicated} (${r.unexplainedDuplicates} unexplained)` : String(r.duplicated))],
  ["out of order", (r) => String(r.outOfOrder)],
  ["misplaced", (r) => String(r.unexpected)],
  ["5xx", (r) => String(r.serverErrors)],
  ["503+RA", (r) => String(r.unavailable)],
  ["longest stall s", (r) => (r.longestStallMs / 1000).toFixed(1)],
];

export function table(result: CheckResult, measurements: Measurements): string {
  const cells = [COLUMNS.map(([title]) => title), ...result.rows.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  const measured = Object.entries(measurements).map(([name, value]) => `${name}: ${value}`).join("; ");
  return [`fault: ${result.fault.name} (${((result.fault.to - result.fault.from) / 1000).toFixed(1)} s)${measured ? ` — ${measured}` : ""}`, line(cells[0]!), rule, ...cells.slice(1).map(line)].join("\n");
}

/** Starts `<REPORT_DIR>/<suite>.json` afresh, for this run's faults; returns its path. */
export function startReport(suite: string): string {
  mkdirSync(REPORT_DIR, { recursive: true });
  const path = join(REPORT_DIR, `${suite}.json`);
  writeFileSync(path, "[]");
  return path;
}

/** Prints the fault's table and adds it to the suite's JSON file (see startReport). */
export function report(suite: string, result: CheckResult, measurements: Measurements): void {
  console.log(`\n${table(result, measurements)}\n`);
  const path = join(REPORT_DIR, `${suite}.json`);
  const duplicates = result.verdicts.flatMap((v) => v.duplicates.map((d) => ({ reader: v.name, ...d })));
  const unexpected = result.verdicts.filter((v) => v.unexpected.length > 0).map((v) => ({ reader: v.name, arrivals: v.unexpected.slice(0, 50), count: v.unexpected.length }));
  const lost = result.verdicts.filter((v) => v.lost.length > 0).map((v) => ({ reader: v.name, offsets: v.lost.slice(0, 50), count: v.lost.length }));
  const entry = { fault: result.fault, rows: result.rows, measurements, duplicates, serverErrors: result.serverErrors, lost, unexpected, miscounted: result.miscounted };
  const earlier = JSON.parse(readFileSync(path, "utf8")) as unknown[];
  writeFileSync(path, JSON.stringify([...earlier, entry], null, 2));
}
