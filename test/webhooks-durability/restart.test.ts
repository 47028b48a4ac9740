/**
 * Webhook delivery survives its gateway: a SIGKILLed gateway's event is delivered again by a
 * new process (at least once, order kept, at most maxInFlight duplicates), and a SIGTERMed
 * gateway finishes the attempt under way, exits 0 and hands over with nothing lost or repeated.
 */
import { describe, expect, it } from "vitest";
import type { Backbone } from "../../src/backbone/connection.js";
import { cleanupsAfterEach } from "../support/cleanups.js";
import { missing, summarize } from "../support/deliveries.js";
import { startGatewayProcess, createWebhook, type GatewayProcess } from "../support/gateway-process.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { connectPublisher, publishOrders } from "../support/publish-orders.js";
import { sleep, until } from "../support/wait.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";

const cleanups = cleanupsAfterEach();

async function setUp(answerDelayMs: number) {
  const nats: TestNats = await startTestNats();
  cleanups.push(() => nats.stop());
  const receiver: Receiver = await startReceiver(() => ({ delayMs: answerDelayMs }));
  cleanups.push(() => receiver.close());
  const gateway = async (): Promise<GatewayProcess> => {
    const gw = await startGatewayProcess(nats.url);
    cleanups.push(() => gw.stop(2_000));
    return gw;
  };
  const first = await gateway();
  const publisher: Backbone = await connectPublisher(nats.url);
  cleanups.push(() => publisher.nc.close());
  return { nats, receiver, gateway, first, publisher };
}

describe("webhook delivery across gateway restarts", () => {
  it.each([1, 4])("SIGKILL mid-delivery (maxInFlight %i): a new gateway delivers every event, with at most maxInFlight duplicates, in order when 1", async (maxInFlight) => {
    const { receiver, gateway, first, publisher } = await setUp(50);
    const timeoutMs = 1_000;
    await createWebhook(first.url, {
      url: receiver.origin + "/hook",
      stream: "orders",
      from: "now",
      maxInFlight,
      timeoutMs,
      retrySchedule: ["200ms", "200ms", "200ms"],
    });
    const offsets = await publishOrders(publisher, 300, { prefix: "kill" });
    expect(offsets).toHaveLength(300);

    // Kill while a request is being answered, a third of the way through.
    await receiver.until(
      () => receiver.requests.length >= 100 && receiver.open().length === maxInFlight,
      `${maxInFlight} requests open after 100`,
      30_000,
      () => `${receiver.requests.length} delivered`,
    );
    const held = receiver.open().map((r) => r.offset).sort((a, b) => a - b);
    first.child.kill("SIGKILL");
    const killedAt = Date.now();
    const exit = await first.exited;
    expect(exit.signal).toBe("SIGKILL");
    const deliveredBeforeKill = receiver.requests.length;

    const second = await gateway();
    const readyAfterMs = Date.now() - killedAt;
    await until(
      () => missing(offsets, receiver.requests, "/hook").length === 0,
      "every event at the receiver",
      60_000,
      () => `missing ${missing(offsets, receiver.requests, "/hook").length} of 300`,
    );
    // Anything else still to come (a late duplicate) would arrive now.
    await sleep(500);

    const s = summarize(receiver.requests, "/hook");
    const resumed = receiver.requests.find((r) => r.index >= deliveredBeforeKill)!;
    console.log(
      `[restart/SIGKILL maxInFlight ${maxInFlight}] events 300, deliveries ${s.requests}, duplicates ${s.duplicates} (offsets ${s.duplicatedOffsets.join(",") || "-"}), ` +
        `killed during offsets ${held.join(",")}; second gateway ready ${readyAfterMs} ms after the kill, ` +
        `first delivery after the kill ${resumed.at - killedAt} ms after it (offset ${resumed.offset}, attempt ${resumed.attempt}); ` +
        `ack_wait = timeoutMs ${timeoutMs} + margin`,
    );
    expect(missing(offsets, receiver.requests, "/hook")).toEqual([]);
    if (maxInFlight === 1) expect(s.outOfOrder).toEqual([]);
    expect(s.duplicates).toBeLessThanOrEqual(maxInFlight);
    // The events the dead gateway held are delivered again first (nothing else can go before them with 1).
    if (maxInFlight === 1) expect(resumed.offset).toBe(held[0]);
    expect(held).toContain(resumed.offset);
    expect(receiver.maxOpen("/hook")).toBeLessThanOrEqual(maxInFlight);
    await second.stop();
  }, 90_000);

  it.each([1, 4])("SIGTERM mid-delivery (maxInFlight %i): the attempts under way complete, the process exits 0, and a restarted gateway goes on with no loss", async (maxInFlight) => {
    // Slow answers, so SIGTERM surely arrives while they are being waited for.
    const { receiver, gateway, first, publisher } = await setUp(300);
    await createWebhook(first.url, {
      url: receiver.origin + "/hook",
      stream: "orders",
      from: "now",
      maxInFlight,
      timeoutMs: 5_000,
      retrySchedule: ["200ms", "200ms", "200ms"],
    });
    const offsets = await publishOrders(publisher, 40 * maxInFlight, { prefix: "term" });

    await receiver.until(
      () => receiver.requests.length >= 10 * maxInFlight && receiver.open().length === maxInFlight,
      `${maxInFlight} requests open after ${10 * maxInFlight}`,
      30_000,
      () => `${receiver.requests.length} delivered`,
    );
    const inFlight = receiver.open();
    const termAt = Date.now();
    first.child.kill("SIGTERM");
    const exit = await Promise.race([first.exited, sleep(20_000).then(() => undefined)]);
    expect(exit, "the gateway did not exit within 20 s of SIGTERM").toBeDefined();
    const fromFirst = receiver.requests.filter((r) => r.at <= exit!.at);
    const startedAfterTerm = fromFirst.filter((r) => r.at > termAt);
    console.log(
      `[restart/SIGTERM maxInFlight ${maxInFlight}] exit code ${exit!.code} signal ${exit!.signal} ${exit!.at - termAt} ms after SIGTERM; ` +
        `requests under way: ${inFlight
          .map((r) => `offset ${r.offset} ${r.endAt !== undefined ? `ended ${r.endAt - termAt} ms after SIGTERM` : "never ended"}${r.aborted ? " (ABORTED by the gateway)" : ""}`)
          .join("; ")}; requests started after SIGTERM: ${startedAfterTerm.length}`,
    );
    expect(exit!.code).toBe(0);
    expect(exit!.signal).toBeNull();
    // The requests under way were answered and read, not cut off.
    for (const r of inFlight) {
      expect(r.aborted).toBe(false);
      expect(r.endAt).toBeLessThanOrEqual(exit!.at);
    }
    // Nothing the first gateway sent was left half done.
    expect(fromFirst.filter((r) => r.aborted || r.endAt === undefined).map((r) => r.offset)).toEqual([]);
    const beforeRestart = receiver.requests.length;

    const second = await gateway();
    const secondReadyAt = Date.now();
    await until(
      () => missing(offsets, receiver.requests, "/hook").length === 0,
      "every event at the receiver",
      60_000,
      () => `missing ${missing(offsets, receiver.requests, "/hook").length} of ${offsets.length}`,
    );
    await sleep(500);
    const s = summarize(receiver.requests, "/hook");
    const resumed = receiver.requests[beforeRestart]!;
    console.log(
      `[restart/SIGTERM maxInFlight ${maxInFlight}] events ${offsets.length}, deliveries ${s.requests}, duplicates ${s.duplicates} (offsets ${s.duplicatedOffsets.join(",") || "-"}); ` +
        `restarted gateway's first delivery (offset ${resumed.offset}, attempt ${resumed.attempt}) ${resumed.at - secondReadyAt} ms after it was ready`,
    );
    expect(missing(offsets, receiver.requests, "/hook")).toEqual([]);
    if (maxInFlight === 1) expect(s.outOfOrder).toEqual([]);
    // The finished attempt was acknowledged before exiting: nothing is delivered twice.
    expect(s.duplicates).toBe(0);
    // A graceful stop holds nothing back: the next gateway need not wait out ack_wait (timeoutMs + margin).
    expect(resumed.at - secondReadyAt).toBeLessThan(2_000);
    await second.stop();
  }, 90_000);
});
