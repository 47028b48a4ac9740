/**
 * PROTOCOL.md section 5.2, long and short polling: max and wait, `next` chaining, how fast a
 * long poll answers, first_offset/last_offset, and the protobuf form (streamgate.v1.EventBatch).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics, orders } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { EventBatch } from "../../protocol/generated/streamgate/v1/event.js";
import { OrderCancelled_Reason } from "../../generated/ts/demo/orders/v1/orders.js";
import { range, T, tag } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { scrapeMetrics, seriesValue } from "../support/metrics.js";
import { sleep } from "../support/wait.js";
import { expectError } from "../support/http.js";
import {
  poll,
  pollRaw,
  publish,
  publishShipped,
  readPoll,
  shapeOf,
  streamInfo,
  type Envelope,
  type Query,
} from "./harness.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await publishShipped(gw, 3);
});
afterAll(async () => gw?.close());

describe("max", () => {
  it("an answer holds at most max events, and exactly max when that many are stored", async () => {
    const offsets = await publishShipped(gw, 10);
    const { body } = await poll(gw, { from: offsets[0]!, max: 3, wait: 0 });
    expect(body.events.map((e) => e.offset)).toEqual(offsets.slice(0, 3));
    expect(body.next).toBe(offsets[3]);

    const one = await poll(gw, { from: offsets[0]!, max: 1, wait: 5 });
    expect(one.body.events.map((e) => e.offset)).toEqual([offsets[0]]);
    expect(one.body.next).toBe(offsets[1]);
  });

  it("defaults to 100; 1000 is allowed", async () => {
    const offsets = await publishShipped(gw, 120);
    const { body } = await poll(gw, { from: offsets[0]!, wait: 0 });
    expect(body.events.map((e) => e.offset)).toEqual(offsets.slice(0, 100));
    expect(body.next).toBe(offsets[100]);
    const info = await streamInfo(gw);
    const big = await poll(gw, { from: 1, max: 1000, wait: 0 });
    expect(big.body.events.map((e) => e.offset)).toEqual(range(1, Math.min(1000, info.events)));
  });

  it.each<[string, Query]>([
    ["max=0", { max: 0 }],
    ["max=1001", { max: 1001 }],
    ["max=-5", { max: -5 }],
    ["max=abc", { max: "abc" }],
    ["max=2.5", { max: "2.5" }],
    ["wait=61", { wait: 61 }],
    ["wait=-1", { wait: -1 }],
    ["wait=abc", { wait: "abc" }],
  ])("%s: 400 invalid_argument", async (_name, query) => {
    const res = await pollRaw(gw, "orders", { from: "first", wait: 0, ...query });
    expectError(res, 400, "invalid_argument");
    expect(res.ms).toBeLessThan(2_000);
  });
});

describe("next", () => {
  it("following next reads every event exactly once, in order, across many polls", async () => {
    const offsets = await publishShipped(gw, 25);
    const seen: number[] = [];
    let from = offsets[0]!;
    let polls = 0;
    while (from <= offsets.at(-1)!) {
      const { body } = await poll(gw, { from, max: 7, wait: 2 });
      expect(body.events.length).toBeGreaterThan(0);
      expect(body.events.length).toBeLessThanOrEqual(7);
      seen.push(...body.events.map((e) => e.offset));
      expect(body.next).toBe(body.events.at(-1)!.offset + 1);
      from = body.next;
      expect(++polls).toBeLessThan(30);
    }
    expect(seen).toEqual(offsets);
    // At the end: nothing more, the same next.
    const end = await poll(gw, { from, wait: 0 });
    expect(end.body).toMatchObject({ events: [], next: from });
  });

  it("moves past filtered-out events, also when max cuts the answer short", async () => {
    const p = tag("n");
    const offsets = await publish(gw, [
      { type: T.shipped, data: { orderId: `${p}-a` } },
      { type: T.created, data: { orderId: `${p}-b` } },
      { type: T.shipped, data: { orderId: `${p}-c` } },
      { type: T.created, data: { orderId: `${p}-d` } },
      { type: T.created, data: { orderId: `${p}-e` } },
      { type: T.shipped, data: { orderId: `${p}-f` } },
      { type: T.created, data: { orderId: `${p}-g` } },
    ]);
    const filter = { types: [T.shipped] };
    const first = await poll(gw, { from: offsets[0]!, ...filter, max: 2, wait: 0 });
    expect(first.body.events.map((e) => e.offset)).toEqual([offsets[0], offsets[2]]);
    // Anywhere after the last event returned, up to the next matching one.
    expect(first.body.next).toBeGreaterThan(offsets[2]!);
    expect(first.body.next).toBeLessThanOrEqual(offsets[5]!);
    const second = await poll(gw, { from: first.body.next, ...filter, max: 2, wait: 0 });
    expect(second.body.events.map((e) => e.offset)).toEqual([offsets[5]]);
    // Nothing else matches: next is past everything stored, the trailing OrderCreated included.
    expect(second.body.next).toBe(offsets[6]! + 1);
  });

  it("a timed-out long poll whose events were all filtered out moves next past them", async () => {
    const info = await streamInfo(gw);
    const pending = poll(gw, { from: info.last_offset + 1, types: [T.cancelled], wait: 2 });
    await sleep(200);
    const offsets = await publishShipped(gw, 3);
    const { body, ms } = await pending;
    expect(body.events).toEqual([]);
    expect(ms).toBeGreaterThan(1_500);
    expect(body.next).toBe(offsets[2]! + 1);
  });
});

describe("wait", () => {
  it("a long poll started before a publish returns promptly with it", async () => {
    const info = await streamInfo(gw);
    const from = info.last_offset + 1;
    const pending = poll(gw, { from, wait: 20 });
    await sleep(300);
    const publishedAt = performance.now();
    const [offset] = await publishShipped(gw, 1);
    const answer = await pending;
    const afterPublish = performance.now() - publishedAt;
    expect(answer.body.events.map((e) => e.offset)).toEqual([offset]);
    expect(answer.body.next).toBe(offset! + 1);
    expect(answer.body.last_offset).toBe(offset);
    // Well before the 20 s wait: within a second of the publish.
    expect(afterPublish).toBeLessThan(1_000);
    expect(answer.ms).toBeLessThan(2_000);
  });

  it("several long polls waiting at once all return with the event", async () => {
    const info = await streamInfo(gw);
    const from = info.last_offset + 1;
    const pending = Array.from({ length: 5 }, () => poll(gw, { from, wait: 20 }));
    await sleep(300);
    const [offset] = await publishShipped(gw, 1);
    for (const answer of await Promise.all(pending)) {
      expect(answer.body.events.map((e) => e.offset)).toEqual([offset]);
      expect(answer.ms).toBeLessThan(3_000);
    }
  });

  it("a long poll with nothing to deliver returns after about wait seconds with no events and next unchanged", async () => {
    const info = await streamInfo(gw);
    const from = info.last_offset + 1;
    const { body, ms } = await poll(gw, { from, wait: 1 });
    expect(body).toEqual({ events: [], next: from, first_offset: info.first_offset, last_offset: info.last_offset });
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2_500);
  });

  it("wait=0 is a short poll: it answers at once, with or without events", async () => {
    const info = await streamInfo(gw);
    const empty = await poll(gw, { from: info.last_offset + 1, wait: 0 });
    expect(empty.body).toMatchObject({ events: [], next: info.last_offset + 1 });
    expect(empty.ms).toBeLessThan(500);
    const some = await poll(gw, { from: info.last_offset, wait: 0 });
    expect(some.body.events.map((e) => e.offset)).toEqual([info.last_offset]);
    expect(some.ms).toBeLessThan(500);
  });

  it("a poll over stored events answers at once whatever wait is", async () => {
    const offsets = await publishShipped(gw, 3);
    const { body, ms } = await poll(gw, { from: offsets[0]!, wait: 30 });
    expect(body.events.map((e) => e.offset)).toEqual(offsets);
    expect(ms).toBeLessThan(1_000);
  });
});

describe("abandoned long polls", () => {
  it("are released on the server when the client goes away (streamgate_open_connections)", async () => {
    // Throws while the series is missing, which expect.poll retries.
    const openPolls = async () => seriesValue(await scrapeMetrics(gw.url), 'streamgate_open_connections{protocol="poll"}');
    const goneAway = new Error("the client went away");
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const pending = controllers.map(async (c) => {
      const res = await fetch(`${gw.url}/v1/streams/orders/poll?wait=30`, { signal: c.signal });
      // Only the abort may end these: an answer before it means the poll did not wait.
      await res.arrayBuffer();
      throw new Error(`the long poll answered ${res.status} before the client went away`);
    });
    await expect.poll(openPolls, { timeout: 3_000, interval: 50 }).toBe(5);
    for (const c of controllers) c.abort(goneAway);
    for (const outcome of await Promise.allSettled(pending)) expect(outcome).toEqual({ status: "rejected", reason: goneAway });
    await expect.poll(openPolls, { timeout: 3_000, interval: 50 }).toBe(0);
  });
});

describe("first_offset and last_offset", () => {
  it("are the stream's range when the answer is made", async () => {
    const offsets = await publishShipped(gw, 4);
    const info = await streamInfo(gw);
    const { body } = await poll(gw, { from: offsets[0]!, max: 2, wait: 0 });
    expect(body.first_offset).toBe(info.first_offset);
    expect(body.last_offset).toBe(offsets[3]);
    expect(body.last_offset).toBe(info.last_offset);
    const more = await publishShipped(gw, 2);
    const { body: later } = await poll(gw, { from: body.next, max: 1, wait: 0 });
    expect(later.last_offset).toBe(more[1]);
    expect(later.first_offset).toBe(info.first_offset);
  });
});

describe("an empty stream (metrics: nothing published in this suite)", () => {
  it.each<[string, Query]>([
    ["from=first", { from: "first" }],
    ["from=1", { from: 1 }],
    ["from=now", { from: "now" }],
    ["last=5", { last: 5 }],
    ["since=<long ago>", { since: "2000-01-01T00:00:00Z" }],
  ])("%s: no events, next 1, first_offset 1, last_offset 0", async (_name, position) => {
    const { body } = await poll(gw, { ...position, wait: 0 }, "metrics");
    expect(body).toEqual({ events: [], next: 1, first_offset: 1, last_offset: 0 });
  });

  it("from=2: 400, it is beyond last_offset + 1", async () => {
    expectError(await pollRaw(gw, "metrics", { from: 2, wait: 0 }), 400, "invalid_argument");
  });

  it("a long poll from=first gets the stream's first event as soon as it is stored", async () => {
    const pending = poll(gw, { from: "first", wait: 20 }, "metrics");
    await sleep(300);
    const producer = createProducer(gw.gateway.session.backbone.js, metrics);
    const { offset } = await producer.publish({ type: T.metric, data: { name: "first-sample", value: 1 } });
    const { body, ms } = await pending;
    expect(offset).toBe(1);
    expect(body.events.map((e) => [e.offset, e.key, e.data])).toEqual([[1, "first-sample", { name: "first-sample", value: 1 }]]);
    expect(body).toMatchObject({ next: 2, first_offset: 1, last_offset: 1 });
    expect(ms).toBeLessThan(2_000);
  });
});

describe("protobuf answers (Accept: application/x-protobuf)", () => {
  let offsets: number[] = [];
  beforeAll(async () => {
    const p = tag("pb");
    offsets = await publish(gw, [
      {
        type: T.created,
        id: `${p}-created`,
        data: {
          orderId: `${p}-1`,
          customerId: "cust",
          items: [{ sku: "sku-1", quantity: 3, unitPriceCents: 333n }],
          totalCents: 1999n,
          currency: "EUR",
          createdAt: { seconds: 1_795_341_600n, nanos: 123_456_789 },
        },
      },
      { type: T.shipped, data: { orderId: `${p}-1`, carrier: "ups", trackingNumber: "1Z" } },
      { type: T.cancelled, data: { orderId: `${p}-2`, reason: OrderCancelled_Reason.REASON_OUT_OF_STOCK, note: "none left" } },
      { type: T.shipped, data: { orderId: "" } },
      { type: T.created, data: { orderId: `${p}-3`, totalCents: -9_007_199_254_740_993n } },
    ]);
  });

  async function both(query: Query) {
    const json = await poll(gw, query);
    const raw = await pollRaw(gw, "orders", query, { accept: "application/x-protobuf" });
    expect(raw.status, raw.text.slice(0, 300)).toBe(200);
    expect(raw.headers.get("content-type") ?? "").toMatch(/^application\/x-protobuf/);
    return { json: json.body, batch: EventBatch.decode(raw.bytes) };
  }

  it("decode to the same events, data and offsets as the JSON answer", async () => {
    const { json, batch } = await both({ from: offsets[0]!, max: 5, wait: 0 });
    expect(json.events.map((e) => e.offset)).toEqual(offsets);
    expect(batch.events.map((e) => Number(e.offset))).toEqual(offsets);
    expect(batch.next).toBe(BigInt(json.next));
    expect(batch.firstOffset).toBe(BigInt(json.first_offset));
    expect(batch.lastOffset).toBe(BigInt(json.last_offset));
    expect(batch.gap).toBeUndefined();

    batch.events.forEach((event, i) => {
      const envelope: Envelope = json.events[i]!;
      expect(event.stream).toBe(envelope.stream);
      expect(event.id).toBe(envelope.id);
      expect(event.type).toBe(envelope.type);
      expect(event.key).toBe(envelope.key ?? "");
      const millis = Number(event.time!.seconds) * 1000 + Math.floor(event.time!.nanos / 1e6);
      expect(millis).toBe(Date.parse(envelope.time));
      const codec = orders.events[envelope.type as keyof typeof orders.events].codec as {
        decode(b: Uint8Array): unknown;
        fromJSON(o: unknown): unknown;
      };
      expect(codec.decode(event.data), `data of offset ${envelope.offset}`).toEqual(codec.fromJSON(envelope.data));
    });
    // The int64 beyond 2^53 survives both forms exactly.
    expect((json.events[4]!.data as { totalCents: string }).totalCents).toBe("-9007199254740993");
  });

  it("an empty short poll is an EventBatch without events", async () => {
    const info = await streamInfo(gw);
    const { json, batch } = await both({ from: info.last_offset + 1, wait: 0 });
    expect(json.events).toEqual([]);
    expect(batch.events).toEqual([]);
    expect(batch.next).toBe(BigInt(info.last_offset + 1));
    expect(batch.lastOffset).toBe(BigInt(info.last_offset));
  });

  it("carry the gap notice", async () => {
    const info = await streamInfo(gw);
    const { json, batch } = await both({ from: offsets[2]!, epoch: "stale-epoch", max: 2, wait: 0 });
    expect(json.gap).toEqual({ stream: "orders", requested: offsets[2], first: info.first_offset, epoch: info.epoch });
    expect(batch.gap).toEqual({ stream: "orders", requested: BigInt(offsets[2]!), first: BigInt(info.first_offset), epoch: info.epoch });
    expect(batch.events.map((e) => Number(e.offset))).toEqual([info.first_offset, info.first_offset + 1]);
  });
});

describe("reading a whole range by polling", () => {
  it("readPoll sees the same as one big poll", async () => {
    const offsets = await publishShipped(gw, 12);
    const { items, answers } = await readPoll(gw, { from: offsets[0]! }, {}, 12);
    expect(shapeOf(items)).toEqual(offsets);
    expect(answers.at(-1)!.next).toBe(offsets.at(-1)! + 1);
  });
});
