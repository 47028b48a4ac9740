import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics, orders, type OrdersEventInit } from "../../generated/streams/index.js";
import { OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { applyStreams } from "../../src/backbone/provision.js";
import { readStreamState } from "../../src/backbone/stream-state.js";
import { InvalidPositionError, type GapNotice, type Position } from "@streamgate/protocol/position";
import { consume } from "../../src/typed/consumer.js";
import { createProducer } from "../../src/typed/producer.js";
import { defineStream } from "@streamgate/protocol/stream";
import { startTestBackbone, type TestBackbone } from "../support/backbone.js";
import { take } from "../support/collect.js";
import { range } from "../support/events.js";
import { consumerNames, firstError, LiveRead, waitForNewConsumer } from "../support/live-read.js";
import { sleep } from "../support/wait.js";

let backbone: TestBackbone;
beforeAll(async () => {
  backbone = await startTestBackbone();
});
afterAll(async () => backbone?.close());

let batches = 0;

/** Publishes `count` OrderCreated events one after the other; returns their offsets (consecutive). */
async function publishOrders(count: number): Promise<{ offsets: number[]; keys: string[] }> {
  const producer = createProducer(backbone.js, orders);
  const tag = `pos${++batches}`;
  const offsets: number[] = [];
  const keys = range(0, count).map((i) => `${tag}-${i}`);
  for (const key of keys) {
    const event: OrdersEventInit = { type: "demo.orders.v1.OrderCreated", data: { orderId: key } };
    offsets.push((await producer.publish(event)).offset);
  }
  // Nothing else publishes to this file's server concurrently, so a batch is contiguous.
  expect(offsets).toEqual(range(offsets[0]!, count));
  return { offsets, keys };
}

async function publishMetrics(count: number): Promise<number[]> {
  const producer = createProducer(backbone.js, metrics);
  const tag = `m${++batches}`;
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    offsets.push((await producer.publish({ type: "demo.metrics.v1.MetricSample", data: { name: `${tag}-${i}`, value: i } })).offset);
  }
  return offsets;
}

const offsetsOf = (events: readonly { offset: number }[]) => events.map((e) => e.offset);
const keysOf = (events: readonly { key: string | undefined }[]) => events.map((e) => e.key);

describe("from=<offset>", () => {
  it("starts exactly at the offset and delivers every later event, in order", async () => {
    const { offsets, keys } = await publishOrders(6);
    const read = await take(consume(backbone, orders, { position: { from: offsets[2]! } }), 4);
    expect(offsetsOf(read)).toEqual(offsets.slice(2));
    expect(keysOf(read)).toEqual(keys.slice(2));

    const [last] = await take(consume(backbone, orders, { position: { from: offsets[5]! } }), 1);
    expect(last).toMatchObject({ offset: offsets[5], key: keys[5], type: "demo.orders.v1.OrderCreated" });
  });

  it("from=first delivers every retained event, oldest first", async () => {
    const { offsets } = await publishOrders(3);
    const state = await readStreamState(backbone.jsm, "orders");
    expect(state.lastOffset).toBe(offsets[2]);
    const read = await take(consume(backbone, orders, { position: { from: "first" } }), state.events);
    expect(offsetsOf(read)).toEqual(range(state.firstOffset, state.events));
    expect(offsetsOf(read.slice(-3))).toEqual(offsets);
  });

  it("from=now delivers only events stored after the read started", async () => {
    const before = await publishOrders(3);
    const existing = await consumerNames(backbone.jsm, "orders");
    const live = new LiveRead((signal) => consume(backbone, orders, { position: { from: "now" }, signal }));
    try {
      await waitForNewConsumer(backbone.jsm, "orders", existing);
      expect(live.items).toEqual([]);
      const after = await publishOrders(3);
      await live.waitFor(3);
      // Delivery is in offset order, so any earlier event would have come first.
      expect(offsetsOf(live.items)).toEqual(after.offsets);
      expect(keysOf(live.items)).toEqual(after.keys);
      expect(Math.min(...offsetsOf(live.items))).toBeGreaterThan(before.offsets[2]!);
    } finally {
      await live.stop();
    }
  });

  it("from=now is the default", async () => {
    await publishOrders(2);
    const existing = await consumerNames(backbone.jsm, "orders");
    const live = new LiveRead((signal) => consume(backbone, orders, { signal }));
    try {
      await waitForNewConsumer(backbone.jsm, "orders", existing);
      const after = await publishOrders(2);
      expect(offsetsOf(await live.waitFor(2))).toEqual(after.offsets);
    } finally {
      await live.stop();
    }
  });

  it("from=last_offset+1 is accepted and waits for the next event", async () => {
    await publishOrders(2);
    const state = await readStreamState(backbone.jsm, "orders");
    const existing = await consumerNames(backbone.jsm, "orders");
    const live = new LiveRead((signal) =>
      consume(backbone, orders, { position: { from: state.lastOffset + 1 }, signal }),
    );
    try {
      await waitForNewConsumer(backbone.jsm, "orders", existing);
      expect(live.items).toEqual([]);
      const next = await publishOrders(1);
      expect(next.offsets).toEqual([state.lastOffset + 1]);
      expect(offsetsOf(await live.waitFor(1))).toEqual(next.offsets);
    } finally {
      await live.stop();
    }
  });

  it("rejects from beyond last_offset+1 with the stream's first_offset and last_offset", async () => {
    await publishOrders(2);
    const state = await readStreamState(backbone.jsm, "orders");
    for (const from of [state.lastOffset + 2, state.lastOffset + 1_000, Number.MAX_SAFE_INTEGER]) {
      const error = await firstError(consume(backbone, orders, { position: { from } }));
      expect(error).toBeInstanceOf(InvalidPositionError);
      expect(error).toMatchObject({ code: "invalid_argument" });
      expect(error.message).toContain(`first_offset ${state.firstOffset}`);
      expect(error.message).toContain(`last_offset ${state.lastOffset}`);
    }
  });
});

describe("since=<time>", () => {
  it("starts at the first event stored at or after the time", async () => {
    const a = await publishOrders(3);
    await sleep(50);
    const since = new Date();
    await sleep(50);
    const b = await publishOrders(3);
    const read = await take(consume(backbone, orders, { position: { since } }), 3);
    expect(offsetsOf(read)).toEqual(b.offsets);
    expect(keysOf(read)).toEqual(b.keys);
    expect(read[0]!.offset).toBe(a.offsets[2]! + 1);
    for (const event of read) expect(event.time.getTime()).toBeGreaterThanOrEqual(since.getTime());
  });

  it("since a time before every event starts at the oldest retained event", async () => {
    await publishOrders(1);
    const state = await readStreamState(backbone.jsm, "orders");
    const read = await take(
      consume(backbone, orders, { position: { since: new Date("2000-01-01T00:00:00Z") } }),
      state.events,
    );
    expect(offsetsOf(read)).toEqual(range(state.firstOffset, state.events));
  });

  it("since a time after every event waits for the next one", async () => {
    const { offsets } = await publishOrders(1);
    const [newest] = await take(consume(backbone, orders, { position: { from: offsets[0]! } }), 1);
    // Event times are whole milliseconds (rounded down); one later is strictly after the event.
    const since = new Date(newest!.time.getTime() + 1);
    const existing = await consumerNames(backbone.jsm, "orders");
    const live = new LiveRead((signal) => consume(backbone, orders, { position: { since }, signal }));
    try {
      await waitForNewConsumer(backbone.jsm, "orders", existing);
      const next = await publishOrders(1);
      expect(offsetsOf(await live.waitFor(1))).toEqual(next.offsets);
    } finally {
      await live.stop();
    }
  });
});

describe("last=<n>", () => {
  it("delivers exactly the last n events, then live events", async () => {
    const { offsets } = await publishOrders(5);
    const live = new LiveRead((signal) => consume(backbone, orders, { position: { last: 3 }, signal }));
    try {
      expect(offsetsOf(await live.waitFor(3))).toEqual(offsets.slice(2));
      const more = await publishOrders(2);
      await live.waitFor(5);
      expect(offsetsOf(live.items)).toEqual([...offsets.slice(2), ...more.offsets]);
    } finally {
      await live.stop();
    }
  });

  it("last=1 delivers the newest event only", async () => {
    const { offsets } = await publishOrders(2);
    const [read] = await take(consume(backbone, orders, { position: { last: 1 } }), 1);
    expect(read!.offset).toBe(offsets[1]);
  });

  it("last larger than the stream starts at the oldest retained event", async () => {
    await publishOrders(2);
    const state = await readStreamState(backbone.jsm, "orders");
    expect(state.events).toBeLessThan(10_000);
    const read = await take(consume(backbone, orders, { position: { last: 10_000 } }), state.events);
    expect(offsetsOf(read)).toEqual(range(state.firstOffset, state.events));
  });
});

describe("invalid positions", () => {
  const invalid: [string, Position][] = [
    ["from 0", { from: 0 }],
    ["from -1", { from: -1 }],
    ["from 1.5", { from: 1.5 }],
    ["from 2^53", { from: 2 ** 53 }],
    ["from NaN", { from: Number.NaN }],
    ["from Infinity", { from: Number.POSITIVE_INFINITY }],
    ['from "oldest"', { from: "oldest" } as unknown as Position],
    ["last 0", { last: 0 }],
    ["last -1", { last: -1 }],
    ["last 1.5", { last: 1.5 }],
    ["last 10001", { last: 10_001 }],
    ["since Invalid Date", { since: new Date("not a time") }],
  ];
  it.each(invalid)("rejects %s with InvalidPositionError", async (_, position) => {
    const error = await firstError(consume(backbone, orders, { position }));
    expect(error).toBeInstanceOf(InvalidPositionError);
    expect(error).toMatchObject({ code: "invalid_argument" });
  });

  // PROTOCOL.md 3: "Two position parameters at once ... 400 (invalid_argument)". TypeScript's
  // excess-property check lets `{ from, last }` through a union type, so it must be checked at run time.
  it.each<[string, Position]>([
    ["from and last", { from: 1, last: 2 }],
    ["from and since", { from: "first", since: new Date() } as Position],
    ["since and last", { since: new Date(), last: 2 } as Position],
  ])("rejects two positions at once (%s)", async (_, position) => {
    const error = await firstError(consume(backbone, orders, { position }));
    expect(error).toBeInstanceOf(InvalidPositionError);
  });
});

describe("gap notices", () => {
  // These tests purge `metrics`; nothing else in this file reads it.
  it("after a purge, from=1 gets one gap notice, then the oldest retained event and the rest in order", async () => {
    const published = await publishMetrics(6);
    const epoch = (await readStreamState(backbone.jsm, "metrics")).epoch;
    await backbone.jsm.streams.purge("metrics", { keep: 3 });
    const state = await readStreamState(backbone.jsm, "metrics");
    expect(state.firstOffset).toBe(published[3]);
    expect(state.lastOffset).toBe(published[5]);
    expect(state.epoch).toBe(epoch); // a purge keeps the epoch

    const log: (GapNotice | number)[] = [];
    const read = await take(
      consume(backbone, metrics, { position: { from: 1 }, onGap: (gap) => log.push(gap) }),
      3,
    );
    for (const event of read) log.push(event.offset);
    expect(log).toEqual([{ stream: "metrics", requested: 1, first: published[3], epoch }, ...published.slice(3)]);

    // Any offset below the first retained one is reported as requested.
    const gaps: GapNotice[] = [];
    const again = await take(
      consume(backbone, metrics, { position: { from: published[2]! }, onGap: (gap) => gaps.push(gap) }),
      1,
    );
    expect(gaps).toEqual([{ stream: "metrics", requested: published[2], first: published[3], epoch }]);
    expect(again[0]!.offset).toBe(published[3]);

    // From the first retained offset there is nothing missing: no gap.
    const none: GapNotice[] = [];
    const exact = await take(
      consume(backbone, metrics, { position: { from: published[3]! }, onGap: (gap) => none.push(gap) }),
      3,
    );
    expect(offsetsOf(exact)).toEqual(published.slice(3));
    expect(none).toEqual([]);
  });

  it("after purging everything, from=1 gets a gap notice with first = last_offset+1, then live events", async () => {
    const published = await publishMetrics(2);
    await backbone.jsm.streams.purge("metrics");
    const state = await readStreamState(backbone.jsm, "metrics");
    expect(state).toMatchObject({ events: 0, lastOffset: published[1], firstOffset: published[1]! + 1 });

    const gaps: GapNotice[] = [];
    const existing = await consumerNames(backbone.jsm, "metrics");
    const live = new LiveRead((signal) =>
      consume(backbone, metrics, { position: { from: 1 }, onGap: (gap) => gaps.push(gap), signal }),
    );
    try {
      await waitForNewConsumer(backbone.jsm, "metrics", existing);
      expect(gaps).toEqual([{ stream: "metrics", requested: 1, first: published[1]! + 1, epoch: state.epoch }]);
      const [next] = await publishMetrics(1);
      expect(next).toBe(published[1]! + 1);
      expect(offsetsOf(await live.waitFor(1))).toEqual([next]);
      expect(gaps).toHaveLength(1);
    } finally {
      await live.stop();
    }
  });
});

describe("epoch", () => {
  it("a wrong epoch gets a gap notice and starts at the oldest retained event", async () => {
    const { offsets } = await publishOrders(3);
    const state = await readStreamState(backbone.jsm, "orders");
    const gaps: GapNotice[] = [];
    const [first] = await take(
      consume(backbone, orders, {
        position: { from: offsets[1]! },
        epoch: "not-the-epoch",
        onGap: (gap) => gaps.push(gap),
      }),
      1,
    );
    expect(gaps).toEqual([{ stream: "orders", requested: offsets[1], first: state.firstOffset, epoch: state.epoch }]);
    expect(first!.offset).toBe(state.firstOffset);
  });

  it("the right epoch gets no gap notice and starts where asked", async () => {
    const { offsets } = await publishOrders(3);
    const state = await readStreamState(backbone.jsm, "orders");
    const gaps: GapNotice[] = [];
    const read = await take(
      consume(backbone, orders, { position: { from: offsets[1]! }, epoch: state.epoch, onGap: (gap) => gaps.push(gap) }),
      2,
    );
    expect(offsetsOf(read)).toEqual(offsets.slice(1));
    expect(gaps).toEqual([]);
  });

  it("re-creating a stream changes its epoch; a reader with the old epoch gets a gap, not an error", async () => {
    // A stream of this file's own, so deleting it disturbs nothing shared.
    const scratch = defineStream({
      name: "positions-epoch",
      description: "re-created by the epoch test",
      settings: { ...orders.settings },
      events: { "demo.orders.v1.OrderShipped": { codec: OrderShipped, keyField: "orderId" } },
    });
    const publish = async (count: number) => {
      const producer = createProducer(backbone.js, scratch);
      const offsets: number[] = [];
      for (let i = 0; i < count; i++) {
        offsets.push((await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: `e-${i}` } })).offset);
      }
      return offsets;
    };
    await applyStreams(backbone.jsm, [scratch]);
    expect(await publish(5)).toEqual([1, 2, 3, 4, 5]);
    const old = await readStreamState(backbone.jsm, scratch.name);

    await backbone.jsm.streams.delete(scratch.name);
    await applyStreams(backbone.jsm, [scratch]);
    expect(await publish(2)).toEqual([1, 2]);
    const now = await readStreamState(backbone.jsm, scratch.name);
    expect(now.epoch).not.toBe(old.epoch);

    // Offset 5 of the old generation is beyond the new end: without the epoch that is refused...
    expect(await firstError(consume(backbone, scratch, { position: { from: 5 } }))).toBeInstanceOf(InvalidPositionError);
    // ...with the old epoch the reader learns its offsets went stale and reads the new generation.
    const gaps: GapNotice[] = [];
    const read = await take(
      consume(backbone, scratch, { position: { from: 5 }, epoch: old.epoch, onGap: (gap) => gaps.push(gap) }),
      2,
    );
    expect(gaps).toEqual([{ stream: scratch.name, requested: 5, first: 1, epoch: now.epoch }]);
    expect(offsetsOf(read)).toEqual([1, 2]);
  });
});
