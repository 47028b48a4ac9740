/**
 * A stuck webhook (its receiver never answers, or nothing listens on its port) must not hold
 * up another webhook on the same stream, and its growing backlog must not grow the gateway:
 * the backlog stays in the backbone, not in the gateway's memory.
 */
import { describe, expect, it } from "vitest";
import { cleanupsAfterEach } from "../support/cleanups.js";
import { missing, summarize } from "../support/deliveries.js";
import { createWebhook, freePort, getWebhook, startGatewayProcess } from "../support/gateway-process.js";
import { startTestNats } from "../support/nats.js";
import { connectPublisher, publishOrders } from "../support/publish-orders.js";
import { sleep, until } from "../support/wait.js";
import { startReceiver } from "../support/webhook-receiver.js";

const cleanups = cleanupsAfterEach();

const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
/** Events of the backlog phase, and the size of each one's data. */
const BACKLOG_EVENTS = 4_000;
const PAD_BYTES = 2_048;
/**
 * How much what the gateway keeps alive (V8 heap + Buffers after a full collection) may grow
 * while the stuck webhooks' backlog grows by BACKLOG_EVENTS. Not RSS: allocator slack moves it
 * by as much as the bound (59 MiB once under CI's load, with 8 MiB of shared events held by design).
 */
const LIVE_GROWTH_BOUND = 48 * MiB;
/** The same with the healthy webhook paused, so only the stuck webhooks have anything to do. */
const LIVE_GROWTH_BOUND_STUCK_ONLY = 16 * MiB;

describe("a stuck webhook is isolated", () => {
  it("a hanging and a dead receiver neither delay a healthy webhook nor grow the gateway with their backlog", async () => {
    const nats = await startTestNats();
    cleanups.push(() => nats.stop());
    const healthy = await startReceiver();
    cleanups.push(() => healthy.close());
    const hanging = await startReceiver(() => ({ hang: true }));
    cleanups.push(() => hanging.close());
    const deadPort = await freePort(); // nothing listens there: connection refused
    const gw = await startGatewayProcess(nats.url, {}, { probes: { gc: true } });
    /** What the gateway keeps alive: V8 heap in use and Buffers, right after a full collection. */
    const live = async () => {
      const memory = await gw.collectGarbage();
      return memory.heapUsed + memory.arrayBuffers;
    };
    /** The most `live` reads until the returned stop() is called; stop() answers it. */
    const watchLive = async () => {
      let peak = await live();
      let watching = true;
      const watched = (async () => {
        while (watching) {
          peak = Math.max(peak, await live());
          await sleep(250);
        }
      })();
      return { baseline: peak, stop: async () => ((watching = false), await watched, peak) };
    };
    cleanups.push(() => gw.stop(2_000));

    // Retries that never run out during the test, so both stay stuck on their first events.
    const stuckRetries = Array.from({ length: 50 }, () => "200ms");
    const hang = await createWebhook(gw.url, {
      url: hanging.origin + "/hang",
      stream: "orders",
      from: "now",
      maxInFlight: 4,
      timeoutMs: 500,
      retrySchedule: stuckRetries,
    });
    const dead = await createWebhook(gw.url, {
      url: `http://127.0.0.1:${deadPort}/dead`,
      stream: "orders",
      from: "now",
      maxInFlight: 1,
      timeoutMs: 500,
      retrySchedule: stuckRetries,
    });
    const ok = await createWebhook(gw.url, { url: healthy.origin + "/ok", stream: "orders", from: "now", timeoutMs: 5_000 });
    const publisher = await connectPublisher(nats.url);
    cleanups.push(() => publisher.nc.close());

    // 1. Lag: 200 events reach the healthy receiver promptly while the others are stuck.
    const t0 = Date.now();
    const first = await publishOrders(publisher, 200, { prefix: "lag" });
    const published = Date.now();
    await until(() => missing(first, healthy.requests).length === 0, "200 events at the healthy receiver", 30_000, () => `healthy missing ${missing(first, healthy.requests).length} of 200`);
    const lagMs = Date.now() - published;
    const worstLagMs = Math.max(...healthy.requests.map((r) => r.at - t0));
    console.log(
      `[isolation] 200 events: published in ${published - t0} ms, all at the healthy receiver ${lagMs} ms after publishing ended` +
        ` (latest arrival ${worstLagMs} ms after publishing began); hanging receiver got ${hanging.requests.length} requests (${hanging.open().length} open)`,
    );
    expect(lagMs).toBeLessThan(3_000);
    expect(hanging.requests.length).toBeGreaterThan(0);

    // 2. Memory: a backlog of BACKLOG_EVENTS (x 2 stuck webhooks) must stay in the backbone.
    await sleep(1_000);
    const baselineRss = gw.rssBytes();
    const watch2 = await watchLive();
    const baseline = watch2.baseline;
    const t1 = Date.now();
    const backlog = await publishOrders(publisher, BACKLOG_EVENTS, { prefix: "backlog", padBytes: PAD_BYTES });
    const published2 = Date.now();
    await until(
      () => missing(backlog, healthy.requests).length === 0,
      "the backlog at the healthy receiver",
      45_000,
      () => `healthy missing ${missing(backlog, healthy.requests).length} of ${BACKLOG_EVENTS}`,
    );
    const backlogLagMs = Date.now() - published2;
    // Keep watching a while after the healthy webhook caught up: a buffering worker keeps growing.
    await sleep(3_000);
    const peak = await watch2.stop();
    const end = await live();
    const endRss = gw.rssBytes();

    const hangView = await getWebhook(gw.url, hang.id);
    const deadView = await getWebhook(gw.url, dead.id);
    console.log(
      `[isolation] backlog of ${BACKLOG_EVENTS} events x ${PAD_BYTES} B: published in ${published2 - t1} ms, healthy caught up ${backlogLagMs} ms later` +
        ` (${Math.round((BACKLOG_EVENTS / (Date.now() - 3_000 - t1)) * 1000)} events/s);` +
        ` gateway live heap+Buffers baseline ${mib(baseline)} MiB, peak ${mib(peak)} MiB (+${mib(peak - baseline)}), end ${mib(end)} MiB (+${mib(end - baseline)}),` +
        ` bound +${mib(LIVE_GROWTH_BOUND)} MiB; RSS ${mib(baselineRss)} -> ${mib(endRss)} MiB; hanging: position ${hangView.position}, ${hanging.requests.length} requests,` +
        ` most open at once ${hanging.maxOpen("/hang")}; dead: position ${deadView.position}, counts ${JSON.stringify(deadView.counts)}`,
    );
    expect(missing(backlog, healthy.requests)).toEqual([]);
    expect(summarize(healthy.requests).duplicates).toBe(0);
    expect(summarize(healthy.requests).outOfOrder).toEqual([]);
    expect(peak - baseline).toBeLessThan(LIVE_GROWTH_BOUND);

    // 3. The same with the healthy webhook paused: now only the stuck webhooks' backlog grows.
    const pause = await fetch(`${gw.url}/v1/webhooks/${ok.id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ paused: true }),
    });
    expect(pause.status).toBe(200);
    await sleep(1_000);
    const baselineRss3 = gw.rssBytes();
    const watch3 = await watchLive();
    const baseline3 = watch3.baseline;
    const third = await publishOrders(publisher, BACKLOG_EVENTS, { prefix: "paused", padBytes: PAD_BYTES });
    await sleep(5_000);
    const peak3 = await watch3.stop();
    const end3 = await live();
    const endRss3 = gw.rssBytes();
    const requestsWhilePaused = healthy.requests.length;
    const resume = await fetch(`${gw.url}/v1/webhooks/${ok.id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ paused: false }),
    });
    expect(resume.status).toBe(200);
    const resumedAt = Date.now();
    await until(
      () => missing(third, healthy.requests).length === 0,
      "the paused backlog at the healthy receiver",
      30_000,
      () => `healthy missing ${missing(third, healthy.requests).length} after resuming`,
    );
    console.log(
      `[isolation] healthy paused, stuck-only backlog +${BACKLOG_EVENTS} (${third.at(-1)! - first[0]! + 1} events behind each stuck webhook):` +
        ` gateway live heap+Buffers baseline ${mib(baseline3)} MiB, peak ${mib(peak3)} MiB (+${mib(peak3 - baseline3)}), end ${mib(end3)} MiB (+${mib(end3 - baseline3)}),` +
        ` bound +${mib(LIVE_GROWTH_BOUND_STUCK_ONLY)} MiB; RSS ${mib(baselineRss3)} -> ${mib(endRss3)} MiB; healthy resumed and caught up ${Date.now() - resumedAt} ms later`,
    );
    expect(peak3 - baseline3).toBeLessThan(LIVE_GROWTH_BOUND_STUCK_ONLY);
    expect(healthy.requests.length - requestsWhilePaused).toBe(BACKLOG_EVENTS);
    expect(summarize(healthy.requests).duplicates).toBe(0);

    // The stuck ones really were stuck, with no more than maxInFlight attempts at once.
    expect(hanging.maxOpen("/hang")).toBeLessThanOrEqual(4);
    expect(hangView.position).toBeLessThan(first[0]! + 10);
    expect(deadView.position).toBeLessThan(first[0]! + 10);
  }, 90_000);
});
