/**
 * The checker on crafted runs: a clean run is judged clean, and each single defect put into it
 * (a loss, a duplicate, a reorder, a 5xx, a stall, an id stored twice, a wrong count) is found,
 * so the fault suite's zeros cannot come from a checker that sees nothing.
 */
import { describe, expect, it } from "vitest";
import { check, type CheckInput } from "./checker.js";
import type { Arrival, Published, ReaderLog, StatusSeen, WebhookLog } from "./observations.js";

const T0 = 1_000_000;
const FAULT = { name: "crafted", from: T0 + 2_000, to: T0 + 3_000 };
/** Offsets 10..14, each answered 1 s apart from T0 + 1 s. */
const PUBLISHED: Published[] = [10, 11, 12, 13, 14].map((offset, i) => ({ id: `e${offset}`, offset, firstTriedAt: T0 + 1_000 * (i + 1) - 5, at: T0 + 1_000 * (i + 1), duplicate: false }));
/** Each event 50 ms after its publish was answered. */
const ON_TIME: Arrival[] = PUBLISHED.map((p) => ({ offset: p.offset, id: p.id, at: p.at + 50 }));

function reader(arrivals: Arrival[] = ON_TIME, statuses: StatusSeen[] = []): ReaderLog {
  return { name: "ws-1", kind: "ws", startedAt: T0, arrivals, statuses, gaps: 0, reconnects: 0 };
}
function webhook(arrivals: Arrival[] = ON_TIME, reportedDelivered = 5): WebhookLog {
  return { name: "a", maxInFlight: 1, timeoutMs: 1_000, startedAt: T0, arrivals, badSignatures: 0, reportedDelivered };
}
function run(overrides: Partial<CheckInput> = {}): CheckInput {
  return {
    fault: FAULT,
    publishers: [{ published: PUBLISHED, abandoned: [], statuses: [] }],
    readers: [reader()],
    webhooks: [webhook()],
    ...overrides,
  };
}
const rowOf = (input: CheckInput, reader: string) => check(input).rows.find((r) => r.reader === reader)!;
const status = (code: number, retryAfter: boolean): StatusSeen => ({ status: code, retryAfter, at: T0, what: "crafted" });

describe("the fault checker", () => {
  it("finds nothing wrong in a clean run, and measures its delays", () => {
    const result = check(run());
    expect(result.rows.map((r) => r.reader)).toEqual(["publish", "ws", "webhook a"]);
    for (const r of result.rows) {
      expect(r, r.reader).toMatchObject({ events: 5, lost: 0, duplicated: 0, unexplainedDuplicates: 0, outOfOrder: 0, unexpected: 0, serverErrors: 0 });
    }
    expect(rowOf(run(), "ws").longestStallMs).toBe(50);
    expect(rowOf(run(), "publish").longestStallMs).toBe(5);
    expect(result.miscounted).toEqual([]);
  });

  it("counts an event a reader never got as lost", () => {
    const input = run({ readers: [reader(ON_TIME.filter((a) => a.offset !== 12))] });
    expect(rowOf(input, "ws").lost).toBe(1);
    expect(check(input).verdicts[0]!.lost).toEqual([12]);
  });

  it("counts a second delivery of an offset as duplicated, not as lost or out of order", () => {
    const input = run({ readers: [reader([...ON_TIME, { ...ON_TIME[1]!, at: T0 + 9_000 }])] });
    expect(rowOf(input, "ws")).toMatchObject({ duplicated: 1, lost: 0, outOfOrder: 0 });
  });

  it("counts a first delivery after a higher offset as out of order", () => {
    const [a, b, c, d, e] = ON_TIME as [Arrival, Arrival, Arrival, Arrival, Arrival];
    const input = run({ readers: [reader([a, c, b, d, e])] });
    expect(rowOf(input, "ws")).toMatchObject({ outOfOrder: 1, lost: 0, duplicated: 0 });
    expect(check(input).verdicts[0]!.outOfOrder).toEqual([[12, 11]]);
  });

  it("counts 500 and a 503 without Retry-After as 5xx, and a 503 with Retry-After only as unavailable", () => {
    const input = run({ readers: [reader(ON_TIME, [status(500, false), status(503, false), status(503, true), status(429, true)])] });
    expect(rowOf(input, "ws")).toMatchObject({ serverErrors: 2, unavailable: 1 });
    const probed = run({ probes: [{ name: "webhook API", statuses: [status(500, false), status(503, true)] }] });
    expect(rowOf(probed, "webhook API")).toMatchObject({ serverErrors: 1, unavailable: 1 });
    const publishing = run({ publishers: [{ published: PUBLISHED, abandoned: [], statuses: [status(502, false)] }] });
    expect(rowOf(publishing, "publish").serverErrors).toBe(1);
    expect(check(publishing).serverErrors.map((e) => [e.seenBy, e.status])).toEqual([["publish", 502]]);
  });

  it("measures a stall from when the awaited event was stored, not from the last delivery", () => {
    // Offset 13 comes 7 s late; it was stored (answered) at T0 + 4 s.
    const late = ON_TIME.map((a) => (a.offset >= 13 ? { ...a, at: T0 + 11_000 + a.offset } : a));
    expect(rowOf(run({ readers: [reader(late)] }), "ws").longestStallMs).toBe(11_000 + 13 - 4_000);
  });

  it("finds an id stored at a second offset", () => {
    const twice = [...ON_TIME, { offset: 15, id: "e12", at: T0 + 6_000 }];
    const input = run({ readers: [reader(twice)] });
    expect(rowOf(input, "ws").unexpected).toBe(1);
    expect(check(input).verdicts[0]!.unexpected).toEqual([{ offset: 15, id: "e12", at: T0 + 6_000, answered: { offset: 12, duplicate: false } }]);
    expect(rowOf(input, "publish")).toMatchObject({ duplicated: 1, unexpected: 0 });
  });

  it("finds publishes answered with each other's offsets", () => {
    // 11 and 12 swapped: each id is where the other's answer said.
    const swapped = ON_TIME.map((a) => (a.offset === 11 ? { ...a, id: "e12" } : a.offset === 12 ? { ...a, id: "e11" } : a));
    const input = run({ readers: [reader(swapped)] });
    expect(rowOf(input, "publish")).toMatchObject({ duplicated: 0, unexpected: 2 });
    expect(rowOf(input, "ws")).toMatchObject({ unexpected: 2, lost: 2 });
  });

  it("counts abandoned publishes as lost", () => {
    const input = run({ publishers: [{ published: PUBLISHED, abandoned: ["e99"], statuses: [] }] });
    expect(rowOf(input, "publish").lost).toBe(1);
  });

  it("explains a webhook duplicate whose first copy was accepted in the fault's at-least-once window, and no other", () => {
    // 11 was first accepted at T0 + 2.05 s, inside the fault: its ack may have been lost with it.
    const nearFault = [...ON_TIME, { ...ON_TIME[1]!, at: T0 + 9_000 }];
    expect(rowOf(run({ webhooks: [webhook(nearFault)] }), "webhook a")).toMatchObject({ duplicated: 1, unexplainedDuplicates: 0 });
    // 14 first accepted at T0 + 20 s, long after the fault and its window (1 s timeout + 5 s margin).
    const farFromFault = [...ON_TIME.slice(0, 4), { offset: 14, id: "e14", at: T0 + 20_000 }, { offset: 14, id: "e14", at: T0 + 21_000 }];
    expect(rowOf(run({ webhooks: [webhook(farFromFault)] }), "webhook a")).toMatchObject({ duplicated: 1, unexplainedDuplicates: 1 });
  });

  it("orders webhooks of maxInFlight 1 only", () => {
    const [a, b, c, d, e] = ON_TIME as [Arrival, Arrival, Arrival, Arrival, Arrival];
    const swapped = [a, c, b, d, e];
    expect(rowOf(run({ webhooks: [webhook(swapped)] }), "webhook a").outOfOrder).toBe(1);
    expect(rowOf(run({ webhooks: [{ ...webhook(swapped), maxInFlight: 4 }] }), "webhook a").outOfOrder).toBe(0);
  });

  it("finds a webhook whose counts.delivered is not what its receiver accepted", () => {
    expect(check(run({ webhooks: [webhook(ON_TIME, 4)] })).miscounted).toEqual([{ name: "a", reported: 4, accepted: 5 }]);
  });
});
