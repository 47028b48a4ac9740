/**
 * Two gateway processes on one backbone share each webhook's durable consumer: every event is
 * delivered, max_ack_pending (= maxInFlight) holds across both processes, and with maxInFlight 1
 * the first deliveries are in offset order. Duplicates and each gateway's share are printed.
 */
import { describe, expect, it } from "vitest";
import { cleanupsAfterEach } from "../support/cleanups.js";
import { missing, summarize } from "../support/deliveries.js";
import { startGatewayProcess, createWebhook, type GatewayProcess } from "../support/gateway-process.js";
import { startTestNats } from "../support/nats.js";
import { connectPublisher, publishOrders } from "../support/publish-orders.js";
import { sleep, until } from "../support/wait.js";
import { startReceiver, type Behaviour, type Receiver } from "../support/webhook-receiver.js";

const cleanups = cleanupsAfterEach();

const EVENTS = 500;

const HOOKS = [
  { path: "/one", maxInFlight: 1 },
  { path: "/four", maxInFlight: 4 },
] as const;

/**
 * A nats-server, a receiver answering as `behaviour` says (each connection attributed to its
 * gateway), gateways A and B, and the webhooks of HOOKS registered through one of them.
 */
async function setUp(behaviour: Behaviour, options: { timeoutMs: number; registerOn: "a" | "b" }) {
  const nats = await startTestNats();
  cleanups.push(() => nats.stop());
  const gateways: GatewayProcess[] = [];
  const receiver = await startReceiver(behaviour, { owners: () => gateways.map((g) => g.pid) });
  cleanups.push(() => receiver.close());
  for (let i = 0; i < 2; i++) {
    const gw = await startGatewayProcess(nats.url);
    cleanups.push(() => gw.stop(2_000));
    gateways.push(gw);
  }
  const [a, b] = gateways as [GatewayProcess, GatewayProcess];
  for (const h of HOOKS) {
    await createWebhook((options.registerOn === "a" ? a : b).url, {
      url: receiver.origin + h.path,
      stream: "orders",
      from: "now",
      maxInFlight: h.maxInFlight,
      timeoutMs: options.timeoutMs,
      retrySchedule: ["200ms", "1s", "1s"],
    });
  }
  // Let the other gateway's dispatcher pick the registrations up from the bucket.
  await sleep(1_000);
  const publisher = await connectPublisher(nats.url);
  cleanups.push(() => publisher.nc.close());
  return { receiver, a, b, publisher };
}

/** Waits until every offset has reached every webhook's path. */
function everyEventDelivered(receiver: Receiver, offsets: readonly number[]): Promise<void> {
  return until(
    () => HOOKS.every((h) => missing(offsets, receiver.requests, h.path).length === 0),
    "every event at the receiver",
    60_000,
    () => HOOKS.map((h) => `${h.path}: missing ${missing(offsets, receiver.requests, h.path).length}`).join(", "),
  );
}

/** Waits until `/one` has had `count` requests and A holds an open request of each webhook. */
function untilAHoldsEachWebhook(receiver: Receiver, a: GatewayProcess, count: number): Promise<void> {
  return receiver.until(
    () =>
      receiver.requests.filter((r) => r.path === "/one").length >= count &&
      HOOKS.every((h) => receiver.open().some((r) => r.path === h.path && r.gatewayPid === a.pid)),
    "A holding a delivery of each webhook",
    30_000,
    () => `${receiver.requests.length} delivered`,
  );
}

describe("two gateways sharing webhooks", () => {
  it("deliver every event once between them; maxInFlight holds across both; maxInFlight 1 stays in offset order", async () => {
    // A short answer delay, so both gateways' pulls are waiting when an event becomes free.
    const { receiver, a, b, publisher } = await setUp(() => ({ delayMs: 2 }), { timeoutMs: 5_000, registerOn: "a" });
    const started = Date.now();
    const offsets = await publishOrders(publisher, EVENTS, { prefix: "two" });
    const waitedFrom = Date.now();
    await everyEventDelivered(receiver, offsets);
    const tookMs = Date.now() - waitedFrom;
    await sleep(1_000);

    const label = (pid: number | undefined) => (pid === a.pid ? "A" : pid === b.pid ? "B" : "unknown");
    for (const h of HOOKS) {
      const mine = receiver.requests.filter((r) => r.path === h.path);
      const s = summarize(receiver.requests, h.path);
      const share = { A: 0, B: 0, unknown: 0 };
      for (const r of mine) share[label(r.gatewayPid)]++;
      console.log(
        `[two-gateways maxInFlight ${h.maxInFlight}] events ${EVENTS}, deliveries ${s.requests}, duplicates ${s.duplicates}` +
          ` (offsets ${s.duplicatedOffsets.join(",") || "-"}), first deliveries out of order ${s.outOfOrder.length},` +
          ` most in flight at once ${receiver.maxOpen(h.path)}, per gateway A ${share.A} / B ${share.B} / unattributed ${share.unknown},` +
          ` all delivered ${Date.now() - started} ms after the first publish (waited ${tookMs} ms)`,
      );
    }

    for (const h of HOOKS) {
      const s = summarize(receiver.requests, h.path);
      expect(missing(offsets, receiver.requests, h.path), h.path).toEqual([]);
      // Neither gateway died nor timed out: "normally once" means no duplicates here.
      expect(s.duplicates, h.path).toBe(0);
      expect(receiver.maxOpen(h.path), h.path).toBeLessThanOrEqual(h.maxInFlight);
    }
    expect(summarize(receiver.requests, "/one").outOfOrder).toEqual([]);
    // The work really was shared: both processes delivered.
    const pids = new Set(receiver.requests.map((r) => r.gatewayPid));
    expect(pids.has(a.pid) && pids.has(b.pid), `deliveries came from ${[...pids].map(label).join(", ")}`).toBe(true);
  }, 90_000);

  it("when one of them is SIGKILLed mid-delivery, the other delivers the rest, with at most maxInFlight duplicates", async () => {
    // Four at a time 40 ms each keeps /four about as far along as /one.
    const { receiver, a, b, publisher } = await setUp((r) => ({ delayMs: r.path === "/four" ? 40 : 10 }), { timeoutMs: 1_000, registerOn: "b" });
    const offsets = await publishOrders(publisher, EVENTS, { prefix: "kill" });
    // Kill A while it holds an event of each webhook.
    await untilAHoldsEachWebhook(receiver, a, 150);
    const held = receiver.open().filter((r) => r.gatewayPid === a.pid).map((r) => `${r.path}@${r.offset}`);
    a.child.kill("SIGKILL");
    const killedAt = Date.now();
    await a.exited;
    await everyEventDelivered(receiver, offsets);
    const doneAfterKillMs = Date.now() - killedAt;
    await sleep(1_000);
    for (const h of HOOKS) {
      const mine = receiver.requests.filter((r) => r.path === h.path);
      const s = summarize(receiver.requests, h.path);
      const afterKill = mine.filter((r) => r.at > killedAt);
      console.log(
        `[two-gateways, A killed, maxInFlight ${h.maxInFlight}] events ${EVENTS}, deliveries ${s.requests}, duplicates ${s.duplicates}` +
          ` (offsets ${s.duplicatedOffsets.join(",") || "-"}), first deliveries out of order ${s.outOfOrder.length};` +
          ` A held ${held.filter((x) => x.startsWith(h.path + "@")).join(",")} when killed; after the kill B delivered ${afterKill.length}` +
          ` (${afterKill.filter((r) => r.gatewayPid === b.pid).length} attributed to B), all done ${doneAfterKillMs} ms after the kill`,
      );
      expect(missing(offsets, receiver.requests, h.path), h.path).toEqual([]);
      expect(s.duplicates, h.path).toBeLessThanOrEqual(h.maxInFlight);
      expect(receiver.maxOpen(h.path), h.path).toBeLessThanOrEqual(h.maxInFlight);
      // A request A wrote just before it died may still reach the receiver after the kill. A never
      // saw it answered, so none of them counts: B delivers each again (one of the duplicates).
      const lateFromA = afterKill.filter((r) => r.gatewayPid === a.pid);
      const deliveredByB = new Set(mine.filter((r) => r.gatewayPid === b.pid).map((r) => r.offset));
      expect(afterKill.filter((r) => r.gatewayPid !== a.pid && r.gatewayPid !== b.pid), `${h.path}: unattributed deliveries after the kill`).toEqual([]);
      expect(lateFromA.length, `${h.path}: A's requests still arriving after the kill`).toBeLessThanOrEqual(h.maxInFlight);
      expect(lateFromA.filter((r) => !deliveredByB.has(r.offset)).map((r) => r.offset), `${h.path}: A's late requests B did not deliver again`).toEqual([]);
    }
    expect(summarize(receiver.requests, "/one").outOfOrder).toEqual([]);
  }, 90_000);

  it("when one of them gets SIGTERM mid-delivery, it finishes its attempts and the other takes over at once, with no duplicates", async () => {
    // A long timeout: an event stranded with the stopped gateway would stall delivery for
    // ack_wait (timeoutMs + margin), which the gap check below would see.
    const { receiver, a, b, publisher } = await setUp((r) => ({ delayMs: r.path === "/four" ? 120 : 30 }), { timeoutMs: 5_000, registerOn: "b" });
    const events = 200;
    const offsets = await publishOrders(publisher, events, { prefix: "term" });
    await untilAHoldsEachWebhook(receiver, a, 50);
    const held = receiver.open().filter((r) => r.gatewayPid === a.pid);
    const termAt = Date.now();
    a.child.kill("SIGTERM");
    const exit = await Promise.race([a.exited, sleep(20_000).then(() => undefined)]);
    expect(exit, "A did not exit within 20 s of SIGTERM").toBeDefined();
    await everyEventDelivered(receiver, offsets);
    await sleep(1_000);
    for (const h of HOOKS) {
      const mine = receiver.requests.filter((r) => r.path === h.path);
      const s = summarize(receiver.requests, h.path);
      // The longest pause in this webhook's deliveries after the SIGTERM.
      const after = mine.filter((r) => r.at >= termAt);
      let gap = 0;
      for (let i = 1; i < after.length; i++) gap = Math.max(gap, after[i]!.at - after[i - 1]!.at);
      const heldHere = held.filter((r) => r.path === h.path);
      console.log(
        `[two-gateways, A SIGTERMed, maxInFlight ${h.maxInFlight}] events ${events}, deliveries ${s.requests}, duplicates ${s.duplicates}` +
          ` (offsets ${s.duplicatedOffsets.join(",") || "-"}); A exited ${exit!.code} ${exit!.at - termAt} ms after SIGTERM;` +
          ` A's attempts under way (${heldHere.map((r) => r.offset).join(",")}) ${heldHere.every((r) => r.endAt !== undefined && !r.aborted) ? "all finished" : "NOT all finished"};` +
          ` longest pause after SIGTERM ${gap} ms; after SIGTERM ${after.filter((r) => r.gatewayPid === a.pid).length} from A, ${after.filter((r) => r.gatewayPid === b.pid).length} from B`,
      );
      expect(missing(offsets, receiver.requests, h.path), h.path).toEqual([]);
      expect(s.duplicates, h.path).toBe(0);
      // Every attempt A made, the ones under way at SIGTERM and any it began after, was finished.
      for (const r of mine.filter((r) => r.gatewayPid === a.pid)) {
        expect(r.aborted, `${h.path}@${r.offset}`).toBe(false);
        expect(r.endAt, `${h.path}@${r.offset}`).toBeLessThanOrEqual(exit!.at);
      }
      // No event stranded with A until its ack_wait ran out.
      expect(gap, h.path).toBeLessThan(2_000);
    }
    expect(exit!.code).toBe(0);
    expect(summarize(receiver.requests, "/one").outOfOrder).toEqual([]);
  }, 90_000);
});
