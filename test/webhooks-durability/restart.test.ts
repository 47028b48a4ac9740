/**
 * Webhook delivery survives its gateway: a SIGKILLed gateway's event is delivered again by a
 * new process (at least once, order kept, at most maxInFlight duplicates), and a SIGTERMed
 * gateway finishes the attempt under way, exits 0 and hands over with nothing lost or repeated.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Backbone } from "../../src/backbone/connection.js";
import { startGatewayProcess, createWebhook, type GatewayProcess } from "../support/gateway-process.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { connectPublisher, publishOrders, waitFor } from "../support/publish-orders.js";
import { sleep } from "../support/wait.js";
import { missing, startReceiver, summarize, type Receiver } from "../support/webhook-receiver.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function setUp(answerDelayMs: number) {
  const nats: TestNats = await startTestNats();
  cleanups.push(() => nats.stop());
  const receiver: Receiver = await startReceiver({ answer: () => ({ delayMs: answerDelayMs }) });
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
      url: receiver.url + "/hook",
      stream: "orders",
      from: "now",
      maxInFlight,
      timeoutMs,
      retrySchedule: ["200ms", "200ms", "200ms"],
    });
    const offsets = await publishOrders(publisher, 300, { prefix: "kill" });
    expect(offsets).toHaveLength(300);

    // Kill while a request is being answered, a third of the way through.
    await waitFor(() => receiver.requests.length >= 100 && receiver.open().length === maxInFlight, 30_000, () => `${receiver.requests.length} delivered`, 1);
    const held = receiver.open().map((r) => r.offset).sort((a, b) => a - b);
    first.child.kill("SIGKILL");
    const killedAt = Date.now();
    const exit = await first.exited;
    expect(exit.signal).toBe("SIGKILL");
    const deliveredBeforeKill = receiver.requests.length;

    const second = await gateway();
    const readyAfterMs = Date.now() - killedAt;
    await waitFor(
      () => missing(offsets, receiver.requests, "/hook").length === 0,
      60_000,
      () => `missing ${missing(offsets, receiver.requests, "/hook").length} of 300`,
    );
    // Anything else still to come (a late duplicate) would arrive now.
    await sleep(500);

    const s = summarize(receiver.requests, "/hook");
    const resumed = receiver.requests.find((r) => r.seq >= deliveredBeforeKill)!;
    console.log(
      `[restart/SIGKILL maxInFlight ${maxInFlight}] events 300, deliveries ${s.requests}, duplicates ${s.duplicates} (offsets ${s.duplicatedOffsets.join(",") || "-"}), ` +
        `killed during offsets ${held.join(",")}; second gateway ready ${readyAfterMs} ms after the kill, ` +
        `first delivery after the kill ${resumed.arrivedAt - killedAt} ms after it (offset ${resumed.offset}, attempt ${resumed.attempt}); ` +
        `ack_wait = timeoutMs ${timeoutMs} + margin`,
    );
    expect(missing(offsets, receiver.requests, "/hook")).toEqual([]);
    if (maxInFlight === 1) expect(s.outOfOrder).toEqual([]);
    expect(s.duplicates).toBeLessThanOrEqual(maxInFlight);
    // The events the dead gateway held are delivered again first (nothing else can go before them with 1).
    if (maxInFlight === 1) expect(resumed.offset).toBe(held[0]);
    expect(held).toContain(resumed.offset);
    expect(receiver.maxConcurrent("/hook")).toBeLessThanOrEqual(maxInFlight);
    await second.stop();
  }, 90_000);

  it.each([1, 4])("SIGTERM mid-delivery (maxInFlight %i): the attempts under way complete, the process exits 0, and a restarted gateway goes on with no loss", async (maxInFlight) => {
    // Slow answers, so SIGTERM surely arrives while they are being waited for.
    const { receiver, gateway, first, publisher } = await setUp(300);
    await createWebhook(first.url, {
      url: receiver.url + "/hook",
      stream: "orders",
      from: "now",
      maxInFlight,
      timeoutMs: 5_000,
      retrySchedule: ["200ms", "200ms", "200ms"],
    });
    const offsets = await publishOrders(publisher, 40 * maxInFlight, { prefix: "term" });

    await waitFor(() => receiver.requests.length >= 10 * maxInFlight && receiver.open().length === maxInFlight, 30_000, () => `${receiver.requests.length} delivered`, 1);
    const inFlight = receiver.open();
    const termAt = Date.now();
    first.child.kill("SIGTERM");
    const exit = await Promise.race([first.exited, sleep(20_000).then(() => undefined)]);
    expect(exit, "the gateway did not exit within 20 s of SIGTERM").toBeDefined();
    const fromFirst = receiver.requests.filter((r) => r.arrivedAt <= exit!.at);
    const startedAfterTerm = fromFirst.filter((r) => r.arrivedAt > termAt);
    console.log(
      `[restart/SIGTERM maxInFlight ${maxInFlight}] exit code ${exit!.code} signal ${exit!.signal} ${exit!.at - termAt} ms after SIGTERM; ` +
        `requests under way: ${inFlight
          .map((r) => `offset ${r.offset} ${r.finishedAt !== undefined ? `finished ${r.finishedAt - termAt} ms after SIGTERM` : "never finished"}${r.aborted ? " (ABORTED by the gateway)" : ""}`)
          .join("; ")}; requests started after SIGTERM: ${startedAfterTerm.length}`,
    );
    expect(exit!.code).toBe(0);
    expect(exit!.signal).toBeNull();
    // The requests under way were answered and read, not cut off.
    for (const r of inFlight) {
      expect(r.aborted).toBeUndefined();
      expect(r.finishedAt).toBeDefined();
      expect(r.finishedAt!).toBeLessThanOrEqual(exit!.at);
    }
    // Nothing the first gateway sent was left half done.
    expect(fromFirst.filter((r) => r.aborted || r.finishedAt === undefined).map((r) => r.offset)).toEqual([]);
    const beforeRestart = receiver.requests.length;

    const second = await gateway();
    const secondReadyAt = Date.now();
    await waitFor(
      () => missing(offsets, receiver.requests, "/hook").length === 0,
      60_000,
      () => `missing ${missing(offsets, receiver.requests, "/hook").length} of ${offsets.length}`,
    );
    await sleep(500);
    const s = summarize(receiver.requests, "/hook");
    const resumed = receiver.requests[beforeRestart]!;
    console.log(
      `[restart/SIGTERM maxInFlight ${maxInFlight}] events ${offsets.length}, deliveries ${s.requests}, duplicates ${s.duplicates} (offsets ${s.duplicatedOffsets.join(",") || "-"}); ` +
        `restarted gateway's first delivery (offset ${resumed.offset}, attempt ${resumed.attempt}) ${resumed.arrivedAt - secondReadyAt} ms after it was ready`,
    );
    expect(missing(offsets, receiver.requests, "/hook")).toEqual([]);
    if (maxInFlight === 1) expect(s.outOfOrder).toEqual([]);
    // The finished attempt was acknowledged before exiting: nothing is delivered twice.
    expect(s.duplicates).toBe(0);
    // A graceful stop holds nothing back: the next gateway need not wait out ack_wait (timeoutMs + margin).
    expect(resumed.arrivedAt - secondReadyAt).toBeLessThan(2_000);
    await second.stop();
  }, 90_000);
});
