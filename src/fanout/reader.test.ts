/**
 * One reader's way through a stream (DESIGN.md, "The fan-out engine"; PROTOCOL.md section 3):
 * catch-up from JetStream, the handover to the live window at the exact offset, falling behind
 * the window and coming back, filtered reads at the end of the stream, gap notices after a
 * purge, and what ends a wait. Against a real nats-server.
 */
import { getEventListeners } from "node:events";
import { setTimeout as pause } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_EXPIRES_MS } from "../backbone/reader.js";
import type { ReadItem, Reader } from "./reader.js";
import { T, range } from "../../test/support/events.js";
import {
  collectGarbage,
  feedReaches,
  many,
  readEvents,
  readToEnd,
  shape,
  startFanoutBench,
  within,
  type FanoutBench,
} from "../../test/support/fanout.js";
import { until } from "../../test/support/wait.js";

let bench: FanoutBench;
beforeAll(async () => {
  bench = await startFanoutBench();
});
afterAll(async () => bench?.close());

const offsetOf = (item: ReadItem) => (item.kind === "event" ? item.event.offset : NaN);

describe("catch-up and the live window", () => {
  it("catches up from JetStream and joins the window at the exact offset while publishing goes on", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(300));
    // The feed holds nothing below 301 and keeps only 50: the reader catches up, maybe more than once.
    const feed = await bench.startFeed(stream, { maxEvents: 50 });
    const reader = await bench.reader(feed, 1);
    const deadline = AbortSignal.timeout(30_000);

    const received: number[] = [];
    const problems: string[] = [];
    /** The first offset the reader took from the window: the feed's own shared event. */
    let joinedAt: number | undefined;
    const reading = (async () => {
      for (;;) {
        const item = await reader.next({ wait: true, signal: deadline });
        if (!item) return;
        if (item.kind === "gap") problems.push(`gap ${JSON.stringify(item.gap)}`);
        else {
          received.push(item.event.offset);
          if (joinedAt === undefined && item.event === feed.get(item.event.offset)) joinedAt = item.event.offset;
        }
      }
    })();

    let last = 300;
    while (joinedAt === undefined && !deadline.aborted) last = (await bench.publish(stream, many(5))).at(-1)!;
    const lastBeforeJoin = last;
    for (let i = 0; i < 20; i++) last = (await bench.publish(stream, many(5))).at(-1)!;
    await until(() => received.at(-1) === last || deadline.aborted, `the reader to reach ${last}`, 30_000);
    reader.close();
    await reading;

    expect(problems).toEqual([]);
    expect(joinedAt, "the reader never took an event from the live window").toBeDefined();
    expect(joinedAt).toBeGreaterThan(300);
    // Events went on being published after the handover, and it lost or repeated none.
    expect(last - lastBeforeJoin).toBe(100);
    expect(received).toEqual(range(1, last));
  });

  it("a reader that falls behind the window reads the missed events from JetStream and comes back to it", async () => {
    const stream = await bench.createStream();
    const feed = await bench.startFeed(stream, { maxEvents: 20 });
    const reader = await bench.reader(feed, 1);
    const fromWindow = (items: ReadItem[]) => items.map((i) => i.kind === "event" && i.event === feed.get(i.event.offset));

    await bench.publish(stream, many(10));
    const live = await readEvents(reader, 10);
    expect(shape(live)).toEqual(range(1, 10));
    expect(fromWindow(live)).toEqual(Array(10).fill(true));

    // The reader stops pulling while the window moves past it.
    await bench.publish(stream, many(100));
    await feedReaches(feed, 110);
    expect(feed.firstOffset).toBe(91);
    expect(reader.cursor).toBe(11);

    const rest = await readEvents(reader, 100);
    expect(shape(rest)).toEqual(range(11, 100));
    expect(fromWindow(rest).slice(-20)).toEqual(Array(20).fill(true));
    expect(await reader.next({ wait: false })).toBeUndefined();
    expect(reader.cursor).toBe(111);
  });
});

describe("a filtered reader whose remaining events do not match", () => {
  const filters: [string, { types?: string[]; key?: string }, number[]][] = [
    ["one type", { types: [T.shipped] }, [1, 3]],
    ["two types (filtered by the reader)", { types: [T.shipped, T.cancelled] }, [1, 3]],
    ["a type and a key", { types: [T.shipped], key: "a" }, [1]],
  ];
  describe.each(["JetStream", "the window"])("read from %s", (where) => {
    it.each(filters)("%s: its cursor reaches last_offset + 1 and next({wait: false}) answers at once", async (_name, filter, matching) => {
      const stream = await bench.createStream();
      const early = where === "the window" ? await bench.startFeed(stream) : undefined;
      const offsets = await bench.publish(stream, [
        { type: T.shipped, key: "a" },
        { type: T.created, key: "a" },
        { type: T.shipped, key: "b" },
        ...many(30, { type: T.created, key: "a" }),
      ]);
      const last = offsets.at(-1)!;
      const feed = early ?? (await bench.startFeed(stream));
      if (early) await feedReaches(feed, last);
      expect(feed.get(1) !== undefined).toBe(where === "the window");

      const reader = await bench.reader(feed, 1, filter);
      expect(shape(await readEvents(reader, matching.length))).toEqual(matching);
      const started = performance.now();
      expect(await reader.next({ wait: false })).toBeUndefined();
      // Not after a fetch of the catch-up consumer ran out.
      expect(performance.now() - started).toBeLessThan(READ_EXPIRES_MS);
      expect(reader.cursor).toBe(last + 1);
    });
  });
});

describe("a reader below the first offset after a purge", () => {
  it("gets one gap notice and goes on at the first retained offset", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(10));
    const feed = await bench.startFeed(stream);
    const reader = await bench.reader(feed, 3);
    await bench.jsm.streams.purge(stream, { seq: 7 });
    await bench.publish(stream, many(2));
    await feedReaches(feed, 12);

    const items = await readEvents(reader, 6);
    expect(shape(items)).toEqual(["gap 3->7", 7, 8, 9, 10, 11, 12]);
    const { epoch } = feed;
    expect(items[0]).toEqual({ kind: "gap", gap: { stream, requested: 3, first: 7, epoch } });
    expect(await reader.next({ wait: false })).toBeUndefined();
  });

  it("gets one gap notice when everything was purged, and goes on with the next event stored", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(5));
    const feed = await bench.startFeed(stream);
    const reader = await bench.reader(feed, 2);
    await bench.jsm.streams.purge(stream);
    await bench.publish(stream, many(1));

    expect(shape(await readEvents(reader, 1))).toEqual(["gap 2->6", 6]);
    expect(await reader.next({ wait: false })).toBeUndefined();
  });

  it("gets one gap notice when the purge comes in the middle of its catch-up", async () => {
    const stream = await bench.createStream();
    // With events this big a catch-up fetch holds at most 4 MiB (about 40 of them): offsets past
    // the first batch are fetched after the purge.
    await bench.publish(stream, many(60, { bytes: 100_000 }));
    const feed = await bench.startFeed(stream);
    const reader = await bench.reader(feed, 1);
    expect(shape(await readEvents(reader, 5))).toEqual(range(1, 5));
    await bench.jsm.streams.purge(stream, { seq: 50 });
    await bench.publish(stream, many(2));
    await feedReaches(feed, 62);

    const started = performance.now();
    const items = await readToEnd(reader);
    // nats-server 2.9 counts the purged events as pending still: a fetch waiting for them stalls.
    expect(performance.now() - started).toBeLessThan(READ_EXPIRES_MS);
    const gaps = items.filter((i) => i.kind === "gap");
    expect(shape(gaps)).toHaveLength(1);
    const at = items.indexOf(gaps[0]!);
    const fetchedBefore = items.slice(0, at).map(offsetOf);
    // What the first batch held is delivered (nothing is lost), then the gap, then 50 on.
    expect(fetchedBefore).toEqual(range(6, fetchedBefore.length));
    expect(gaps[0]).toEqual({ kind: "gap", gap: { stream, requested: 6 + fetchedBefore.length, first: 50, epoch: feed.epoch } });
    expect(items.slice(at + 1).map(offsetOf)).toEqual(range(50, 13));
  });
});

describe("what ends a wait", () => {
  /** A reader at the live edge of a fresh, empty stream. */
  async function idleReader(): Promise<Reader> {
    const stream = await bench.createStream();
    return bench.reader(await bench.startFeed(stream), 1);
  }

  it("a wait signal that aborts, also with garbage collected all along", async () => {
    const WAIT_MS = 300;
    const feed = await bench.startFeed(await bench.createStream());
    const readers = await Promise.all(Array.from({ length: 20 }, () => bench.reader(feed, 1)));
    const gone = new AbortController();
    const started = performance.now();
    // Nobody but the readers holds the timeout signals, as in a route that makes one per request.
    let ended = 0;
    const waits = readers.map((reader) =>
      reader.next({ wait: AbortSignal.timeout(WAIT_MS), signal: gone.signal }).finally(() => ended++),
    );
    while (ended < waits.length && performance.now() - started < WAIT_MS + 5_000) {
      collectGarbage();
      await pause(10);
    }
    expect(ended, `${waits.length - ended} of ${waits.length} waits never ended`).toBe(waits.length);
    expect(await Promise.all(waits)).toEqual(Array(waits.length).fill(undefined));
    expect(performance.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 1);
  });

  it("the signal, close() and a new event each end a wait", async () => {
    const aborted = await idleReader();
    const gone = new AbortController();
    const waiting = aborted.next({ wait: true, signal: gone.signal });
    gone.abort();
    expect(await within(waiting, 1_000, "next() after its signal aborted")).toBeUndefined();

    const closed = await idleReader();
    const waitingToo = closed.next({ wait: true });
    closed.close();
    expect(await within(waitingToo, 1_000, "next() after close()")).toBeUndefined();

    const stream = await bench.createStream();
    const woken = await bench.reader(await bench.startFeed(stream), 1);
    const next = woken.next({ wait: true });
    await bench.publish(stream, many(1));
    const item = await within(next, 10_000, "next() after an event was stored");
    expect(item && offsetOf(item)).toBe(1);
  });

  it("wait bounds only the waiting for new events: stored ones are read to the end", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(30));
    const feed = await bench.startFeed(stream);
    for (const wait of [false, AbortSignal.abort()]) {
      const reader = await bench.reader(feed, 1);
      expect(shape(await readToEnd(reader, wait))).toEqual(range(1, 30));
      expect(reader.cursor).toBe(31);
    }
  });

  it("a reader that waits again and again keeps one listener per signal, and none once closed", async () => {
    const stream = await bench.createStream();
    const reader = await bench.reader(await bench.startFeed(stream), 1);
    const gone = new AbortController();
    const listeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;
    for (let i = 1; i <= 20; i++) {
      const next = reader.next({ wait: true, signal: gone.signal });
      await bench.publish(stream, many(1));
      const item = await within(next, 10_000, `event ${i}`);
      expect(item && offsetOf(item)).toBe(i);
      expect(listeners(gone.signal)).toBe(1);
    }
    // A poll gives a wait signal for its first event only: the next call lets go of it.
    const firstWait = new AbortController();
    firstWait.abort();
    expect(await reader.next({ wait: firstWait.signal, signal: gone.signal })).toBeUndefined();
    expect(await reader.next({ wait: false, signal: gone.signal })).toBeUndefined();
    expect(listeners(firstWait.signal)).toBe(0);
    reader.close();
    expect(listeners(gone.signal)).toBe(0);
  });
});
