import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders, type OrdersEvent } from "../../generated/streams/index.js";
import type { StoreResult } from "../../src/backbone/publish.js";
import { readStreamState } from "../../src/backbone/stream-state.js";
import type { Position } from "@streamgate/protocol/position";
import { consume } from "../../src/typed/consumer.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestBackbone, type TestBackbone } from "../support/backbone.js";
import { range } from "../support/events.js";
import { consumerNames, LiveRead, waitForNewConsumer } from "../support/live-read.js";
import { sleep } from "../support/wait.js";

let backbone: TestBackbone;
beforeAll(async () => {
  backbone = await startTestBackbone();
});
afterAll(async () => backbone?.close());

let tags = 0;

async function publishOrders(count: number): Promise<number[]> {
  const producer = createProducer(backbone.js, orders);
  const tag = `rc${++tags}`;
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    offsets.push((await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: `${tag}-${i}` } })).offset);
  }
  return offsets;
}

/** Starts a read and resolves once it is attached to the stream (its consumer exists). */
async function startRead(position: Position): Promise<LiveRead<OrdersEvent>> {
  const existing = await consumerNames(backbone.jsm, "orders");
  const live = new LiveRead((signal) => consume(backbone, orders, { position, signal }));
  await waitForNewConsumer(backbone.jsm, "orders", existing);
  return live;
}

async function restart(): Promise<{ startedAt: number; readyAt: number }> {
  const startedAt = Date.now();
  await backbone.nats.restart();
  return { startedAt, readyAt: Date.now() };
}

const offsetsOf = (events: readonly { offset: number }[]) => events.map((e) => e.offset);

describe("a consumer across a nats-server restart", () => {
  it(
    "receives every offset exactly once, contiguous and in order, while a producer publishes through the outage",
    async () => {
      const TOTAL = 1_500;
      const BATCH = 10;
      const RESTART_AT = 500;
      const run = Date.now().toString(36);
      const before = await readStreamState(backbone.jsm, "orders");
      const start = before.lastOffset + 1;
      const live = await startRead({ from: start });
      const producer = createProducer(backbone.js, orders);

      const results: StoreResult[] = [];
      const latencies: number[] = [];
      const ackedAt = new Map<number, number>();
      let restarting: Promise<{ startedAt: number; readyAt: number }> | undefined;
      let readBeforeRestart = 0;
      try {
        for (let sent = 0; sent < TOTAL; sent += BATCH) {
          if (sent === RESTART_AT) {
            // The consumer is mid-stream: it has read some of what was published, not all.
            await live.until(() => live.items.length > 0, "the first events");
            readBeforeRestart = live.items.length;
            restarting = restart();
          }
          const batch = await Promise.all(
            range(sent, BATCH).map(async (n) => {
              const t0 = Date.now();
              const result = await producer.publish(
                { type: "demo.orders.v1.OrderShipped", data: { orderId: `rc-${run}-${n}` } },
                { id: `rc-${run}-${n}` },
              );
              latencies.push(Date.now() - t0);
              ackedAt.set(result.offset, Date.now());
              return result;
            }),
          );
          results.push(...batch);
        }
        const { startedAt, readyAt } = await restarting!;

        // Every publish succeeded, each id at its own offset, and the stream holds each event once.
        expect(results).toHaveLength(TOTAL);
        const offsets = results.map((r) => r.offset);
        expect(new Set(offsets).size).toBe(TOTAL);
        expect([...offsets].sort((a, b) => a - b)).toEqual(range(start, TOTAL));
        expect(new Set(results.map((r) => r.id)).size).toBe(TOTAL);
        const after = await readStreamState(backbone.jsm, "orders");
        expect(after.lastOffset).toBe(start + TOTAL - 1);
        expect(after.events - before.events).toBe(TOTAL);

        // The consumer got every offset exactly once, in order, each with the id stored there.
        await live.waitFor(TOTAL, 30_000);
        const idAt = new Map(results.map((r) => [r.offset, r.id]));
        expect(offsetsOf(live.items)).toEqual(range(start, TOTAL));
        for (const event of live.items) expect(event.id).toBe(idAt.get(event.offset));

        // And nothing more: the next event stored is the next one read, no repeat before it.
        const [next] = await publishOrders(1);
        await live.waitFor(TOTAL + 1);
        expect(offsetsOf(live.items)).toEqual(range(start, TOTAL + 1));
        expect(next).toBe(start + TOTAL);

        // How long the outage looked from each side (for the report).
        const firstAfter = live.arrivals.findIndex((at) => at >= readyAt);
        const lags = live.items.slice(0, TOTAL).map((event, i) => live.arrivals[i]! - ackedAt.get(event.offset)!);
        console.info(
          `restart took ${readyAt - startedAt} ms; consumer had read ${readBeforeRestart} events before it; ` +
            `first event read ${live.arrivals[firstAfter]! - readyAt} ms after the server was ready; ` +
            `slowest publish ${Math.max(...latencies)} ms; worst ack-to-read lag ${Math.max(...lags)} ms; ` +
            `duplicates acknowledged ${results.filter((r) => r.duplicate).length}`,
        );
      } finally {
        await restarting?.catch(() => {});
        await live.stop();
      }
    },
    60_000,
  );

  it("a from=now read that has read nothing yet picks up the first event after the restart", async () => {
    await publishOrders(3);
    const live = await startRead({ from: "now" });
    try {
      await restart();
      const after = await publishOrders(2);
      expect(offsetsOf(await live.waitFor(2, 15_000))).toEqual(after);
    } finally {
      await live.stop();
    }
  });

  it("a last=n read continues after the restart without repeating", async () => {
    const earlier = await publishOrders(3);
    const live = await startRead({ last: 2 });
    try {
      await live.waitFor(2);
      await restart();
      const after = await publishOrders(2);
      await live.waitFor(4, 15_000);
      expect(offsetsOf(live.items)).toEqual([...earlier.slice(1), ...after]);
    } finally {
      await live.stop();
    }
  });

  it("a since read that has read events continues after the restart", async () => {
    await publishOrders(2);
    await sleep(50);
    const since = new Date();
    await sleep(50);
    const first = await publishOrders(2);
    const live = await startRead({ since });
    try {
      await live.waitFor(2);
      await restart();
      const after = await publishOrders(2);
      await live.waitFor(4, 15_000);
      expect(offsetsOf(live.items)).toEqual([...first, ...after]);
    } finally {
      await live.stop();
    }
  });

  it("a since read that has read nothing yet picks up the first event after the restart, and nothing older", async () => {
    await publishOrders(2);
    await sleep(50);
    const since = new Date();
    const live = await startRead({ since });
    try {
      await restart();
      const after = await publishOrders(2);
      await live.waitFor(2, 15_000);
      expect(offsetsOf(live.items.slice(0, 2))).toEqual(after);
    } finally {
      await live.stop();
    }
  });
});
