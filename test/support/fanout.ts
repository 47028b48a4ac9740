/**
 * For the fan-out engine's own tests (src/fanout/*.test.ts): a real nats-server, a fresh
 * stream per test (offsets from 1), events stored straight into it, live feeds and readers
 * made by hand so a test can set the window's limits and see what the feed holds.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { applyStreams } from "../../src/backbone/provision.js";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { storeEvent } from "../../src/backbone/publish.js";
import { readStreamState } from "../../src/backbone/stream-state.js";
import { filterSubject } from "../../src/backbone/subjects.js";
import { eventFilter } from "../../src/fanout/encoded-event.js";
import { DEFAULT_FEED_LIMITS, StreamFeed, type FeedLimits } from "../../src/fanout/feed.js";
import { Reader, type ReadItem } from "../../src/fanout/reader.js";
import { loadSchemas, type Schemas } from "../../src/schema/registry.js";
import { OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { T } from "./events.js";
import { startTestNats, type TestNats } from "./nats.js";
import { until } from "./wait.js";

export interface EventSpec {
  type?: string;
  key?: string;
  /** Pads the event's data to exactly this many bytes. */
  bytes?: number;
}

export interface FanoutBench extends Backbone {
  nats: TestNats;
  schemas: Schemas;
  /** A stream of its own for one test, in memory, with no limits; given a name, made (again) under it. */
  createStream(name?: string): Promise<string>;
  /** Stores events one after the other; answers their offsets. */
  publish(stream: string, specs: readonly EventSpec[]): Promise<number[]>;
  /** A live feed from the stream's next offset on, already reading; closed by close(). */
  startFeed(stream: string, limits?: Partial<FeedLimits>): Promise<StreamFeed>;
  /** A reader of the feed's stream from startOffset, as the hub would make it; closed by close(). */
  reader(feed: StreamFeed, startOffset: number, filter?: { types?: string[]; key?: string }): Promise<Reader>;
  close(): Promise<void>;
}

export async function startFanoutBench(): Promise<FanoutBench> {
  const nats = await startTestNats();
  const backbone = await connectBackbone(nats.url, "fanout-test");
  const schemas = await loadSchemas();
  const feeds: StreamFeed[] = [];
  const readers: Reader[] = [];
  let streams = 0;
  return {
    ...backbone,
    nats,
    schemas,
    async createStream(name = `fanout-${++streams}`) {
      const settings = { maxAgeMs: 0, maxBytes: -1, maxEvents: -1, storage: "memory", replicas: 1, duplicateWindowMs: 60_000 } as const;
      await applyStreams(backbone.jsm, [{ name, description: "fan-out test stream", settings }]);
      return name;
    },
    async publish(stream, specs) {
      const offsets: number[] = [];
      for (const spec of specs) {
        const { offset } = await storeEvent(backbone.js, { stream, type: spec.type ?? T.shipped, key: spec.key, data: eventData(spec) });
        offsets.push(offset);
      }
      return offsets;
    },
    async startFeed(stream, limits = {}) {
      const state = await readStreamState(backbone.jsm, stream);
      const feed = new StreamFeed(state, { ...DEFAULT_FEED_LIMITS, ...limits });
      feed.start(backbone.js, backbone.jsm, schemas, (err) => {
        throw new Error(`the live feed of ${stream} failed`, { cause: err });
      });
      feeds.push(feed);
      return feed;
    },
    async reader(feed, startOffset, filter = {}) {
      const state = await readStreamState(backbone.jsm, feed.stream);
      const ctx = { ...backbone, schemas, feed, filterSubject: filterSubject(feed.stream, filter) };
      const reader = new Reader(ctx, startOffset, eventFilter(filter), state);
      readers.push(reader);
      return reader;
    },
    async close() {
      for (const reader of readers) reader.close();
      for (const feed of feeds) feed.close();
      await backbone.nc.close();
      await nats.stop();
    },
  };
}

/** OrderShipped bytes, padded to spec.bytes exactly when given. */
function eventData(spec: EventSpec): Uint8Array {
  const plain = OrderShipped.encode({ orderId: spec.key ?? "o", carrier: "ups", trackingNumber: "" }).finish();
  if (spec.bytes === undefined) return plain;
  // The padding field costs a tag and a length varint besides itself.
  for (let pad = Math.max(0, spec.bytes - plain.length - 4); pad <= spec.bytes; pad++) {
    const data = OrderShipped.encode({ orderId: spec.key ?? "o", carrier: "ups", trackingNumber: "x".repeat(pad) }).finish();
    if (data.length === spec.bytes) return data;
  }
  throw new Error(`no OrderShipped is exactly ${spec.bytes} bytes`);
}

/** The promise's value, or a rejection naming `what` after timeoutMs. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** `count` specs of the same shape. */
export function many(count: number, spec: EventSpec = {}): EventSpec[] {
  return Array.from({ length: count }, () => spec);
}

/** Resolves once the feed holds lastOffset (it reads the stream live). */
export function feedReaches(feed: StreamFeed, lastOffset: number, timeoutMs = 10_000): Promise<void> {
  return until(() => feed.lastOffset >= lastOffset, `the feed of ${feed.stream} to reach ${lastOffset}`, timeoutMs, () =>
    `it holds ${feed.firstOffset}..${feed.lastOffset}`,
  );
}

/** Reads items (gap notices too) until `count` events have come; rejects after timeoutMs. */
export async function readEvents(reader: Reader, count: number, timeoutMs = 15_000): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  const deadline = AbortSignal.timeout(timeoutMs);
  let events = 0;
  while (events < count) {
    const item = await reader.next({ wait: true, signal: deadline });
    if (!item) throw new Error(`read ended after ${events} of ${count} events (cursor ${reader.cursor})`);
    items.push(item);
    if (item.kind === "event") events++;
  }
  return items;
}

/** Reads items until next() has none, waiting for no new event (or as `wait` says). */
export async function readToEnd(reader: Reader, wait: boolean | AbortSignal = false): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for (let item = await reader.next({ wait }); item; item = await reader.next({ wait })) items.push(item);
  return items;
}

/** Items as a compact list: offsets as numbers, gap notices as "gap <requested>-><first>". */
export function shape(items: readonly ReadItem[]): (number | string)[] {
  return items.map((item) => (item.kind === "gap" ? `gap ${item.gap.requested}->${item.gap.first}` : item.event.offset));
}

setFlagsFromString("--expose-gc");
/** Runs a full garbage collection in this process (no --expose-gc needed on the command line). */
export const collectGarbage = runInNewContext("gc") as () => void;
