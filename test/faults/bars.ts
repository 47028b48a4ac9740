/** Issue 13's bars, asserted on a fault's check: what every fault must meet. */
import { expect } from "vitest";
import type { FaultRun } from "./scenario.js";

/** 0 lost, 0 out of order, 0 5xx, no event stored twice, every duplicate explained, exact counts. */
export function expectNoHarm({ result, workload }: FaultRun): void {
  const name = result.fault.name;
  for (const row of result.rows) {
    expect.soft(row.lost, `${name}, ${row.reader}: lost`).toBe(0);
    expect.soft(row.outOfOrder, `${name}, ${row.reader}: out of order`).toBe(0);
    expect.soft(row.serverErrors, `${name}, ${row.reader}: 5xx seen (503 without Retry-After included)`).toBe(0);
    expect.soft(row.unexpected, `${name}, ${row.reader}: events not where their publish's answer said (stored twice, or answered wrongly)`).toBe(0);
    expect.soft(row.unexplainedDuplicates, `${name}, ${row.reader}: duplicates outside the fault's at-least-once window`).toBe(0);
  }
  const distinct = new Set(result.serverErrors.map((s) => `${s.seenBy.replace(/-\d+$/, "")} ${s.status}${s.retryAfter ? "" : " without Retry-After"}: ${s.what.slice(0, 160)}`));
  expect.soft([...distinct], `${name}: the 5xx clients saw`).toEqual([]);
  expect.soft(result.miscounted, `${name}: webhooks whose counts.delivered is not what their receiver accepted`).toEqual([]);
  expect.soft(workload.webhooks.map((w) => w.log.badSignatures), `${name}: deliveries whose signature did not verify`).toEqual([0, 0, 0]);
  expect.soft(result.rows.find((r) => r.reader === "publish")?.events, `${name}: events stored`).toBeGreaterThan(0);
}

/** A reader kind's longest stall, at most `ms`. */
export function expectReaderStallsAtMost({ result }: FaultRun, ms: number): void {
  for (const row of result.rows.filter((r) => ["ws", "sse", "poll"].includes(r.reader))) {
    expect.soft(row.longestStallMs, `${result.fault.name}, ${row.reader}: longest stall (ms)`).toBeLessThanOrEqual(ms);
  }
}
