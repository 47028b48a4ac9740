/**
 * The live feed's window (DESIGN.md, "The fan-out engine"): bounded by count and by bytes,
 * evicting the oldest, with readers behind it reading JetStream instead; and how a wait on the
 * feed ends. Against a real nats-server.
 */
import { setImmediate } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncodedEvent } from "./encoded-event.js";
import { Wakeup } from "./wakeup.js";
import { T, range } from "../../test/support/events.js";
import { feedReaches, many, readEvents, shape, startFanoutBench, within, type FanoutBench } from "../../test/support/fanout.js";

let bench: FanoutBench;
beforeAll(async () => {
  bench = await startFanoutBench();
});
afterAll(async () => bench?.close());

/** What an event whose data has this many bytes counts for in the window, by the event's own measure. */
function sizeOf(bytes: number): number {
  const stored = { stream: "s", offset: 1, id: "i", type: T.shipped, key: undefined, time: new Date(), data: new Uint8Array(bytes) };
  return new EncodedEvent(stored, bench.schemas).size;
}

describe("the window", () => {
  it("keeps the newest maxEvents events; a reader behind it catches up from JetStream with no hole", async () => {
    const stream = await bench.createStream();
    const feed = await bench.startFeed(stream, { maxEvents: 5 });
    const offsets = await bench.publish(stream, many(12));
    expect(offsets).toEqual(range(1, 12));
    await feedReaches(feed, 12);

    expect([feed.firstOffset, feed.lastOffset]).toEqual([8, 12]);
    expect(feed.get(7)).toBeUndefined();
    expect(range(8, 5).map((o) => feed.get(o)?.offset)).toEqual(range(8, 5));

    const reader = await bench.reader(feed, 1);
    const items = await readEvents(reader, 12);
    expect(shape(items)).toEqual(range(1, 12));
    // 1..7 came from JetStream, 8..12 are the window's own shared events.
    expect(items.map((i) => i.kind === "event" && i.event === feed.get(i.event.offset))).toEqual([
      ...Array(7).fill(false),
      ...Array(5).fill(true),
    ]);
    expect(await reader.next({ wait: false })).toBeUndefined();
    expect(reader.cursor).toBe(13);
  });

  it("keeps at most maxBytes: the oldest go until the rest fits, and readers read the evicted ones from JetStream", async () => {
    const small = 100;
    const big = 200;
    // The budget holds three small events, or one small and one big, but not two small and one big.
    const budget = 3 * sizeOf(small);
    expect(sizeOf(big)).toBeGreaterThan(sizeOf(small));
    expect(sizeOf(big)).toBeLessThanOrEqual(2 * sizeOf(small));

    const stream = await bench.createStream();
    const feed = await bench.startFeed(stream, { maxEvents: 1000, maxBytes: budget });
    await bench.publish(stream, many(5, { bytes: small }));
    await feedReaches(feed, 5);
    expect([feed.firstOffset, feed.lastOffset]).toEqual([3, 5]);

    await bench.publish(stream, [{ bytes: big }]);
    await feedReaches(feed, 6);
    expect([feed.firstOffset, feed.lastOffset]).toEqual([5, 6]);
    expect(feed.get(6)?.stored.data.byteLength).toBe(big);

    // An event larger than the whole budget is not kept at all: the window is left empty.
    await bench.publish(stream, [{ bytes: budget }]);
    await feedReaches(feed, 7);
    expect([feed.firstOffset, feed.lastOffset]).toEqual([8, 7]);
    expect(feed.get(7)).toBeUndefined();

    const reader = await bench.reader(feed, 1);
    const items = await readEvents(reader, 7);
    expect(shape(items)).toEqual(range(1, 7));
    expect(items.map((i) => (i.kind === "event" ? i.event.stored.data.byteLength : 0))).toEqual([
      ...Array(5).fill(small),
      big,
      budget,
    ]);
    expect(await reader.next({ wait: false })).toBeUndefined();
    expect(reader.cursor).toBe(8);
  });
});

describe("waitFor", () => {
  /** True once the promise has settled; checked after pending callbacks have run. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await setImmediate();
    return done;
  }

  it("ends when the offset arrives", async () => {
    const stream = await bench.createStream();
    const feed = await bench.startFeed(stream);
    const waiting = feed.waitFor(1, new Wakeup(), () => false);
    expect(await settled(waiting)).toBe(false);
    await bench.publish(stream, many(1));
    await within(waiting, 10_000, "waitFor(1) after offset 1 was stored");
    expect(feed.lastOffset).toBe(1);
  });

  it("ends when the feed closes", async () => {
    const stream = await bench.createStream();
    const feed = await bench.startFeed(stream);
    const waiting = feed.waitFor(1, new Wakeup(), () => false);
    expect(await settled(waiting)).toBe(false);
    feed.close();
    await within(waiting, 1_000, "waitFor(1) after close()");
    expect(feed.closed).toBe(true);
  });

  it("ends when a watched signal aborts and stop() then holds, not before", async () => {
    const stream = await bench.createStream();
    const feed = await bench.startFeed(stream);
    const wakeup = new Wakeup();
    const ignored = new AbortController();
    const ending = new AbortController();
    wakeup.watch([ignored.signal, ending.signal]);
    const waiting = feed.waitFor(1, wakeup, () => ending.signal.aborted);

    ignored.abort();
    expect(await settled(waiting)).toBe(false);
    ending.abort();
    await within(waiting, 1_000, "waitFor(1) after its signal aborted");
    expect(feed.lastOffset).toBe(0);
  });
});
