/**
 * The bench's webhooks scenario (bench/scenarios/webhooks.ts) at a small size: 50 webhooks on one stream,
 * 100 events, every one of the 5,000 deliveries arrives exactly once, each webhook in offset order.
 */
import { describe, expect, it } from "vitest";
import { cleanupsAfterEach } from "../support/cleanups.js";
import { summarize } from "../support/deliveries.js";
import { createWebhook, startGatewayProcess } from "../support/gateway-process.js";
import { startTestNats } from "../support/nats.js";
import { connectPublisher, publishOrders } from "../support/publish-orders.js";
import { sleep } from "../support/wait.js";
import { startReceiver } from "../support/webhook-receiver.js";

const cleanups = cleanupsAfterEach();

const WEBHOOKS = 50;
const EVENTS = 100;

describe("many webhooks on one stream", () => {
  it(`${WEBHOOKS} webhooks x ${EVENTS} events: every delivery arrives, once, in order per webhook`, async () => {
    const nats = await startTestNats();
    cleanups.push(() => nats.stop());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const gw = await startGatewayProcess(nats.url);
    cleanups.push(() => gw.stop(5_000));
    const publisher = await connectPublisher(nats.url);
    cleanups.push(() => publisher.nc.close());

    const ids: string[] = [];
    for (let start = 0; start < WEBHOOKS; start += 10) {
      const batch = [];
      for (let i = start; i < Math.min(WEBHOOKS, start + 10); i++) {
        batch.push(createWebhook(gw.url, { url: `${receiver.origin}/h/${i}`, stream: "orders", from: "now", timeoutMs: 10_000 }));
      }
      for (const w of await Promise.all(batch)) ids.push(w.id);
    }
    // Every worker pulling before the first event is published.
    for (const id of ids) {
      for (let i = 0; (await publisher.jsm.consumers.info("orders", id)).num_waiting === 0; i++) {
        if (i > 100) throw new Error(`webhook ${id}: no worker pulls after 10 s`);
        await sleep(100);
      }
    }

    const started = Date.now();
    const offsets = await publishOrders(publisher, EVENTS, { prefix: "many" });
    const total = WEBHOOKS * EVENTS;
    const distinct = () => new Set(receiver.requests.map((r) => `${r.path}@${r.offset}`)).size;
    await receiver.until(() => receiver.requests.length >= total && distinct() === total, "every delivery", 60_000, () => `${distinct()} of ${total} delivered`);
    const seconds = (Date.now() - started) / 1000;
    await sleep(1_000);
    console.log(
      `[many] ${WEBHOOKS} webhooks x ${EVENTS} events: ${receiver.requests.length} requests, ${distinct()} distinct deliveries in ${seconds.toFixed(1)} s` +
        ` (${Math.round(total / seconds)}/s), gateway RSS ${(gw.rssBytes() / 1024 / 1024).toFixed(0)} MiB`,
    );
    for (let i = 0; i < WEBHOOKS; i++) {
      const s = summarize(receiver.requests, `/h/${i}`);
      expect(s.firstOrder, `/h/${i}`).toEqual(offsets);
      expect(s.duplicates, `/h/${i}`).toBe(0);
    }
    expect(receiver.requests.length).toBe(total);
  }, 90_000);
});
