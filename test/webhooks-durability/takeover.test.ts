/**
 * A dead gateway's webhook deliveries are taken over within seconds (a 2 s ack wait, kept open by
 * a heartbeat while a gateway lives), a long attempt is never handed out twice, and the counts stay
 * exact through a SIGKILL: delivered = what the receiver got - the possible duplicates counted.
 * Takeover times are printed.
 */
import { nanos } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { cleanupsAfterEach } from "../support/cleanups.js";
import { missing, summarize } from "../support/deliveries.js";
import { createWebhook, getWebhook, startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { startTestNats } from "../support/nats.js";
import { connectPublisher, publishOrders } from "../support/publish-orders.js";
import { eventually } from "../support/wait.js";
import { startReceiver, type Behaviour, type ReceivedRequest } from "../support/webhook-receiver.js";

const cleanups = cleanupsAfterEach();

interface Counts {
  delivered: number;
  failedAttempts: number;
  deadLetters: number;
  duplicates: number;
}

/** A nats-server, a receiver attributing each request to its gateway, two gateways and a maxInFlight 1 webhook. */
async function setUp(behaviour: Behaviour, timeoutMs: number) {
  const nats = await startTestNats();
  cleanups.push(() => nats.stop());
  const gateways: GatewayProcess[] = [];
  const receiver = await startReceiver(behaviour, { owners: () => gateways.map((g) => g.pid) });
  cleanups.push(() => receiver.close());
  const start = async () => {
    const gw = await startGatewayProcess(nats.url);
    cleanups.push(() => gw.stop(2_000));
    gateways.push(gw);
    return gw;
  };
  await start();
  await start();
  const publisher = await connectPublisher(nats.url);
  cleanups.push(() => publisher.nc.close());
  const hook = await createWebhook(gateways[0]!.url, { url: receiver.url, stream: "orders", from: "now", timeoutMs, retrySchedule: ["200ms"] });
  // Both gateways pull from the webhook's consumer: a takeover does not wait for one to start.
  await eventually(() => publisher.jsm.consumers.info("orders", hook.id), (info) => info.num_waiting >= 2, "both gateways pulling", 15_000);
  const counts = async () => (await getWebhook(gateways.at(-1)!.url, hook.id)).counts as Counts;
  return { receiver, gateways, publisher, hook, start, counts };
}

const byGateway = (gateways: readonly GatewayProcess[], r: ReceivedRequest) => gateways.find((g) => g.pid === r.gatewayPid);

describe("webhook takeover", () => {
  it("a SIGKILLed gateway's attempt is sent again by the other within 3 s, and counted as a possible duplicate", async () => {
    // The first attempt of each event is held open, so the holder is known when it is killed.
    const { receiver, gateways, publisher, hook, start, counts } = await setUp((r) => (r.attempt === 1 ? { hang: true } : 204), 10_000);
    const takeovers: number[] = [];
    for (let round = 0; round < 3; round++) {
      const [offset] = await publishOrders(publisher, 1, { prefix: `take-${round}` });
      await receiver.until(() => receiver.open().some((r) => r.offset === offset && r.gatewayPid !== undefined), `offset ${offset} held`, 15_000);
      const held = receiver.open().find((r) => r.offset === offset)!;
      const holder = byGateway(gateways, held)!;
      holder.child.kill("SIGKILL");
      const killedAt = Date.now();
      await holder.exited;
      gateways.splice(gateways.indexOf(holder), 1);
      await receiver.until(() => receiver.requests.some((r) => r.offset === offset && r.attempt === 2), `offset ${offset} sent again`, 15_000);
      const again = receiver.requests.find((r) => r.offset === offset && r.attempt === 2)!;
      expect(byGateway(gateways, again), "sent again by the surviving gateway").toBeDefined();
      takeovers.push(again.at - killedAt);
      // The next round's event may land on either gateway: both pull again.
      await start();
      await eventually(() => publisher.jsm.consumers.info("orders", hook.id), (info) => info.num_waiting >= 2 && info.num_ack_pending === 0, "both pulling, nothing held", 15_000);
    }
    console.log(`[webhook takeover] SIGKILL of the holder to the survivor's request: ${takeovers.map((t) => `${t} ms`).join(", ")}`);
    for (const t of takeovers) expect(t).toBeLessThanOrEqual(3_000);
    // Each killed attempt had reached the receiver: three duplicates, each counted, and three events delivered.
    expect(await counts()).toEqual({ delivered: 3, failedAttempts: 0, deadLetters: 0, duplicates: 3 });
  }, 120_000);

  it("keeps an attempt that outlasts the ack wait (receiver answering after 6 s, timeoutMs 10 s): sent once", async () => {
    const { receiver, publisher, counts } = await setUp(() => ({ status: 204, delayMs: 6_000 }), 10_000);
    const [first, second] = await publishOrders(publisher, 2, { prefix: "long" });
    // maxInFlight 1: the second goes out only once the first is settled, so any second attempt of
    // the first, during its 6 s, would have come before it.
    await receiver.until(() => receiver.requests.some((r) => r.offset === second), "the second event", 30_000);
    expect(receiver.requests.map((r) => [r.offset, r.attempt]), receiver.summary()).toEqual([[first, 1], [second!, 1]]);
    await eventually(counts, (c) => c.delivered === 2, "both counted", 15_000);
    expect(await counts()).toEqual({ delivered: 2, failedAttempts: 0, deadLetters: 0, duplicates: 0 });
  }, 60_000);

  it("counts exactly through a SIGKILL mid-stream of 2,000 events: delivered = received - duplicates", async () => {
    const EVENTS = 2_000;
    const { receiver, gateways, publisher, counts } = await setUp(() => ({ status: 204, delayMs: 3 }), 5_000);
    const offsets = await publishOrders(publisher, EVENTS, { prefix: "crash" });
    const [a] = gateways as [GatewayProcess];
    await receiver.until(
      () => receiver.requests.length >= 700 && receiver.open().some((r) => r.gatewayPid === a.pid),
      "A holding a delivery after 700",
      60_000,
    );
    const held = receiver.open().find((r) => r.gatewayPid === a.pid)!;
    a.child.kill("SIGKILL");
    const killedAt = Date.now();
    await a.exited;
    gateways.splice(0, 1);
    await receiver.until(() => missing(offsets, receiver.requests).length === 0, "every event at the receiver", 120_000, () => `missing ${missing(offsets, receiver.requests).length}`);
    const again = receiver.requests.find((r) => r.offset === held.offset && r.gatewayPid !== a.pid);
    const final = await eventually(counts, (c) => c.delivered >= EVENTS, `${EVENTS} counted`, 30_000);
    const s = summarize(receiver.requests);
    console.log(
      `[webhook crash count] events ${EVENTS}, received ${receiver.requests.length}, duplicated offsets ${s.duplicatedOffsets.join(",") || "-"};` +
        ` counts ${JSON.stringify(final)}; offset ${held.offset} held by the killed gateway was sent again ${again ? again.at - killedAt : "never"} ms after the kill`,
    );
    expect(final.delivered).toBe(EVENTS);
    expect(final.delivered).toBe(receiver.requests.length - final.duplicates);
    expect(final.duplicates).toBe(s.duplicates);
    expect(final.duplicates).toBeGreaterThanOrEqual(1);
    expect(again, "the held event sent again").toBeDefined();
    expect(again!.at - killedAt).toBeLessThanOrEqual(3_000);
  }, 180_000);

  it("brings a consumer made with the old ack wait (timeout + 5 s) to 2 s on start, in place", async () => {
    const { publisher, hook, gateways, start } = await setUp(() => 204, 10_000);
    const [offset] = await publishOrders(publisher, 1, { prefix: "old" });
    await eventually(() => publisher.jsm.consumers.info("orders", hook.id), (info) => info.ack_floor.stream_seq === offset, "the event settled", 15_000);
    for (const gw of gateways.splice(0)) await gw.stop();
    await publisher.jsm.consumers.update("orders", hook.id, { ack_wait: nanos(15_000) });
    const before = await publisher.jsm.consumers.info("orders", hook.id);
    await start();
    const after = await eventually(() => publisher.jsm.consumers.info("orders", hook.id), (info) => info.config.ack_wait === nanos(2_000), "ack_wait 2 s", 15_000);
    expect(after.created).toBe(before.created);
    expect(after.ack_floor.stream_seq).toBe(offset);
  }, 60_000);
});
