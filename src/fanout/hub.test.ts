/**
 * The hub (DESIGN.md, "The fan-out engine"; PROTOCOL.md section 3): one live feed per stream
 * shared by every reader, each reader placed at its exact start, gap notices for a purge or a
 * stale epoch, and a new feed when the stream is re-created. Against a real nats-server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStreamState, type StreamState } from "../backbone/stream-state.js";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import { Hub } from "./hub.js";
import type { Reader } from "./reader.js";

type ReadRequest = ReadSpec & { stream: string };
import { range } from "../../test/support/events.js";
import { many, readEvents, readToEnd, shape, startFanoutBench, within, type FanoutBench } from "../../test/support/fanout.js";

let bench: FanoutBench;
let hub: Hub;
const feedErrors: { stream: string; err: unknown }[] = [];
/** A feed whose stream was deleted under it may fail: for these streams that is no fault. */
const deleted = new Set<string>();
beforeAll(async () => {
  bench = await startFanoutBench();
  hub = new Hub(bench, bench.schemas, (stream, err) => feedErrors.push({ stream, err }), { maxEvents: 16, maxBytes: 1024 * 1024 });
});
const readers: Reader[] = [];
afterAll(async () => {
  for (const reader of readers) reader.close();
  hub?.close();
  await bench?.close();
  expect(feedErrors.filter((e) => !deleted.has(e.stream))).toEqual([]);
});

/** hub.open, with the reader closed after the file. */
async function opened({ stream, ...spec }: ReadRequest): Promise<{ reader: Reader; state: StreamState }> {
  const state = await readStreamState(bench.jsm, stream);
  const reader = await hub.open(state, spec);
  readers.push(reader);
  return { reader, state };
}
const open = async (request: ReadRequest) => (await opened(request)).reader;

describe("one live feed per stream", () => {
  it("every reader gets the same encoded events, from one consumer on the server", async () => {
    const stream = await bench.createStream();
    const all = await Promise.all(Array.from({ length: 10 }, () => open({ stream, position: { from: "now" } })));
    await bench.publish(stream, many(5));
    const reads = await Promise.all(all.map((reader) => readEvents(reader, 5)));
    for (const items of reads) expect(shape(items)).toEqual(range(1, 5));
    // Decoded and encoded once for all: the very same objects.
    const events = reads.map((items) => items.map((item) => item.kind === "event" && item.event));
    for (const same of events) same.forEach((event, i) => expect(event).toBe(events[0]![i]));
    const consumers = await bench.jsm.consumers.list(stream).next();
    expect(consumers).toHaveLength(1);
  });
});

describe("where a reader starts", () => {
  it("from=first, from=<offset>, last=n, since=<time> and from=now", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(8));
    // As JetStream stored it, to the nanosecond: events 4 and 5 may share a millisecond.
    const since = (await bench.jsm.streams.getMessage(stream, { seq: 5 }))!.timestamp;
    const starts = async (position: ReadRequest["position"]) => shape(await readToEnd(await open({ stream, position })));
    expect(await starts({ from: "first" })).toEqual(range(1, 8));
    expect(await starts({ from: 6 })).toEqual([6, 7, 8]);
    expect(await starts({ last: 2 })).toEqual([7, 8]);
    expect(await starts({ since })).toEqual(range(5, 4));
    expect(await starts({ from: "now" })).toEqual([]);
    expect(await starts({ from: 9 })).toEqual([]);
  });

  it("a reader below the first offset after a purge gets one gap notice, then the first retained offset", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(10));
    await bench.jsm.streams.purge(stream, { seq: 7 });
    const reader = await open({ stream, position: { from: 3 } });
    const items = await readToEnd(reader);
    expect(shape(items)).toEqual(["gap 3->7", 7, 8, 9, 10]);
  });

  it("an epoch that no longer matches gives a gap notice with the current one", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(3));
    const { reader, state } = await opened({ stream, position: { from: 2 }, epoch: "stale-epoch" });
    const items = await readToEnd(reader);
    expect(items[0]).toEqual({ kind: "gap", gap: { stream, requested: 2, first: 1, epoch: state.epoch } });
    expect(shape(items.slice(1))).toEqual([1, 2, 3]);
  });
});

describe("a re-created stream", () => {
  it("ends the readers of the old feed; new readers read the new stream, told of the new epoch", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(3));
    const { reader: old, state: before } = await opened({ stream, position: { from: "now" } });
    const waiting = old.next({ wait: true });

    deleted.add(stream);
    await bench.jsm.streams.delete(stream);
    await bench.createStream(stream);
    await bench.publish(stream, many(2));
    const fresh = await open({ stream, position: { from: 1 }, epoch: before.epoch });

    expect(await within(waiting, 10_000, "the old reader's wait")).toBeUndefined();
    const items = await readToEnd(fresh);
    expect(items[0]?.kind === "gap" && items[0].gap.epoch).not.toBe(before.epoch);
    expect(shape(items.slice(1))).toEqual([1, 2]);
  });
});

describe("the hub's count of readers", () => {
  it("tells readers catching up through JetStream from those at the live window, and forgets closed ones", async () => {
    const own = new Hub(bench, bench.schemas, (stream, err) => feedErrors.push({ stream, err }));
    try {
      const stream = await bench.createStream();
      await bench.publish(stream, many(3));
      const state = await readStreamState(bench.jsm, stream);
      const behind = await own.open(state, { position: { from: "first" } });
      const atEnd = await own.open(state, { position: { from: "now" } });
      expect(own.readerCounts()).toEqual({ live: 1, catchingUp: 1 });

      const stored = await readToEnd(behind);
      expect(stored.map((item) => item.kind === "event" && item.live)).toEqual([false, false, false]);
      // At the end of what JetStream held, it reads the window from now on.
      expect(own.readerCounts()).toEqual({ live: 2, catchingUp: 0 });
      await bench.publish(stream, many(2));
      for (const reader of [behind, atEnd]) {
        expect((await readEvents(reader, 2)).map((item) => item.kind === "event" && item.live)).toEqual([true, true]);
      }

      behind.close();
      expect(own.readerCounts()).toEqual({ live: 1, catchingUp: 0 });
      atEnd.close();
      atEnd.close();
      expect(own.readerCounts()).toEqual({ live: 0, catchingUp: 0 });
    } finally {
      own.close();
    }
  });
});
