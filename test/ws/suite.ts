/**
 * The WebSocket protocol suite (PROTOCOL.md sections 2, 3 and 5.3), run once per subprotocol
 * by json.test.ts and proto.test.ts against a gateway of their own. Everything is black-box:
 * real sockets, a real nats-server; fixtures are published through the typed producer or the
 * WebSocket `publish` op, and every event stored in the file's gateway is mirrored locally
 * (offset, type, key), so each read can be predicted exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics, orders, type OrdersEventInit } from "../../generated/streams/index.js";
import { MetricSample } from "../../generated/ts/demo/metrics/v1/metrics.js";
import { OrderCancelled, OrderCancelled_Reason, OrderCreated, OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { storeEvent } from "../../src/backbone/publish.js";
import { createProducer } from "../../src/typed/producer.js";
import { EVENT_ID, RFC3339_UTC, T } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { sleep } from "../support/wait.js";
import {
  SUBPROTOCOL,
  WsClient,
  uid,
  wsUrl,
  type Kind,
  type MsgOf,
  type WsEvent,
  jsonish,
} from "../support/ws-client.js";

export const other = (kind: Kind): Kind => (kind === "json" ? "proto" : "json");

// ---------------------------------------------------------------------------------------------
// Example events: every event type of PROTOCOL.md section 8, as a ts-proto message and as the
// canonical proto3 JSON the gateway must deliver for it.

/** ts-proto codecs by type name. */
export const CODECS = {
  [T.created]: OrderCreated,
  [T.shipped]: OrderShipped,
  [T.cancelled]: OrderCancelled,
  [T.metric]: MetricSample,
} as const satisfies Record<string, { encode(m: any): { finish(): Uint8Array }; decode(b: Uint8Array): unknown }>;

export interface Example {
  name: string;
  stream: "orders" | "metrics";
  type: keyof typeof CODECS;
  /** The full ts-proto message (defaults filled), as decode() returns it. */
  message: any;
  /** Its canonical proto3 JSON. */
  json: Record<string, unknown>;
  /** The key the schema's key field gives it. */
  key: string;
}

export function examples(tag: string): Example[] {
  const created = `${tag}-created`;
  const shipped = `${tag}-shipped`;
  const bare = `${tag}-bare`;
  const cancelled = `${tag}-cancelled`;
  const cpu = `${tag}-cpu`;
  const inf = `${tag}-inf`;
  return [
    {
      name: "OrderCreated (repeated message, int64 beyond 2^53, negative int64, Timestamp with micros)",
      stream: "orders",
      type: T.created,
      message: OrderCreated.fromPartial({
        orderId: created,
        customerId: "cust-9",
        items: [
          { sku: "sku-1", quantity: 2, unitPriceCents: 1999n },
          { sku: "sku-2", quantity: 1, unitPriceCents: -5n },
        ],
        totalCents: 9007199254740993n,
        currency: "EUR",
        createdAt: { seconds: 1798794245n, nanos: 123456000 },
      }),
      json: {
        orderId: created,
        customerId: "cust-9",
        items: [
          { sku: "sku-1", quantity: 2, unitPriceCents: "1999" },
          { sku: "sku-2", quantity: 1, unitPriceCents: "-5" },
        ],
        totalCents: "9007199254740993",
        currency: "EUR",
        createdAt: "2027-01-01T09:04:05.123456Z",
      },
      key: created,
    },
    {
      name: "OrderShipped",
      stream: "orders",
      type: T.shipped,
      message: OrderShipped.fromPartial({ orderId: shipped, carrier: "dhl", trackingNumber: "JD014600006281230" }),
      json: { orderId: shipped, carrier: "dhl", trackingNumber: "JD014600006281230" },
      key: shipped,
    },
    {
      name: "OrderShipped with default fields (omitted in JSON)",
      stream: "orders",
      type: T.shipped,
      message: OrderShipped.fromPartial({ orderId: bare }),
      json: { orderId: bare },
      key: bare,
    },
    {
      name: "OrderCancelled (enum by name, non-ASCII text)",
      stream: "orders",
      type: T.cancelled,
      message: OrderCancelled.fromPartial({ orderId: cancelled, reason: OrderCancelled_Reason.REASON_OUT_OF_STOCK, note: "épuisé ✓ 在庫切れ" }),
      json: { orderId: cancelled, reason: "REASON_OUT_OF_STOCK", note: "épuisé ✓ 在庫切れ" },
      key: cancelled,
    },
    {
      name: "MetricSample (double, map, Timestamp)",
      stream: "metrics",
      type: T.metric,
      message: MetricSample.fromPartial({ name: cpu, value: 0.25, labels: { host: "h1", region: "eu-west" }, observedAt: { seconds: 1767225600n, nanos: 0 } }),
      json: { name: cpu, value: 0.25, labels: { host: "h1", region: "eu-west" }, observedAt: "2026-01-01T00:00:00Z" },
      key: cpu,
    },
    {
      name: "MetricSample with an infinite value",
      stream: "metrics",
      type: T.metric,
      message: MetricSample.fromPartial({ name: inf, value: Number.NEGATIVE_INFINITY }),
      json: { name: inf, value: "-Infinity" },
      key: inf,
    },
  ];
}

export function encodeExample(e: Example): Uint8Array {
  return (CODECS[e.type] as { encode(m: unknown): { finish(): Uint8Array } }).encode(e.message).finish();
}

export function decodeAs(type: string, bytes: Uint8Array): unknown {
  const codec = CODECS[type as keyof typeof CODECS] as { decode(b: Uint8Array): unknown } | undefined;
  if (!codec) throw new Error(`no codec for ${type}`);
  return codec.decode(bytes);
}

/** The publish op for an example, with data in the form of the subprotocol. */
export function publishOp(kind: Kind, e: Example, fields: Record<string, unknown> = {}) {
  return { op: "publish", ref: uid("pub"), stream: e.stream, type: e.type, data: kind === "json" ? e.json : encodeExample(e), ...fields };
}

/** Checks that a delivered event carries the example's data, in the subprotocol's form. */
export function expectExampleData(kind: Kind, event: WsEvent, e: Example): void {
  expect(event.type).toBe(e.type);
  expect(event.key).toBe(e.key);
  if (kind === "json") {
    expect(event.data, e.name).toEqual(e.json);
    expect(event).not.toHaveProperty("dataBase64");
  } else {
    expect(event.bytes, e.name).toBeInstanceOf(Uint8Array);
    expect(decodeAs(e.type, event.bytes!), e.name).toEqual(e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// The stream mirror

export interface Rec {
  offset: number;
  type: string;
  key: string | undefined;
}

export interface Filter {
  types?: string[];
  key?: string;
}

export const matches = (r: Rec, f: Filter = {}) => (!f.types || f.types.includes(r.type)) && (f.key === undefined || f.key === r.key);

/** Registers the suite for one subprotocol; the gateway it starts is handed out for extra tests. */
export function suite(kind: Kind): { gateway(): TestGateway } {
  let gw: TestGateway;
  /** Every event stored in the orders stream of this file's gateway, in offset order. */
  const mirror: Rec[] = [];
  const clients: WsClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.close();
  });

  const record = (r: Rec) => {
    if (!mirror.some((m) => m.offset === r.offset)) mirror.push(r);
    mirror.sort((a, b) => a.offset - b.offset);
  };

  async function publishOrder(type: (typeof T)["created" | "shipped" | "cancelled"], key: string): Promise<number> {
    const producer = createProducer(gw.gateway.session.backbone.js, orders);
    const { offset } = await producer.publish({ type, data: { orderId: key } } as OrdersEventInit);
    record({ offset, type, key });
    return offset;
  }

  async function publishMetric(name: string): Promise<number> {
    const producer = createProducer(gw.gateway.session.backbone.js, metrics);
    return (await producer.publish({ type: T.metric, data: { name, value: 1 } })).offset;
  }

  async function connect(path = "/v1/ws", as: Kind = kind): Promise<WsClient> {
    const client = await WsClient.connect(wsUrl(gw.url, path), as);
    clients.push(client);
    expect(client.protocol).toBe(SUBPROTOCOL[as]);
    return client;
  }

  async function streamInfo(stream = "orders"): Promise<{ first_offset: number; last_offset: number; events: number; epoch: string }> {
    const res = await fetch(`${gw.url}/v1/streams/${stream}`);
    expect(res.status).toBe(200);
    return (await res.json()) as never;
  }

  /** The mirror must be the stream: nothing stored behind the test's back. */
  async function checkMirror(): Promise<void> {
    const info = await streamInfo();
    expect(info.last_offset).toBe(mirror.at(-1)?.offset ?? 0);
    expect(info.events).toBe(mirror.length);
  }

  function expectEnvelope(event: WsEvent, rec: Rec, stream = "orders"): void {
    expect(event.stream).toBe(stream);
    expect(event.offset).toBe(rec.offset);
    expect(event.type).toBe(rec.type);
    expect(event.key).toBe(rec.key);
    expect(event.id).toMatch(EVENT_ID);
    expect(event.time).toMatch(RFC3339_UTC);
    expect(Math.abs(Date.parse(event.time) - Date.now())).toBeLessThan(10 * 60_000);
    if (kind === "json") {
      expect(event.data).toBeTypeOf("object");
      expect(event.data).not.toBeNull();
    } else {
      expect(decodeAs(rec.type, event.bytes!)).toMatchObject({ orderId: rec.key });
    }
  }

  /**
   * Publishes, when the filter is narrower than the stream, an event it must skip, then one it
   * must deliver (the marker), and expects the marker to be the very next item of `sub`: so
   * nothing extra (no duplicate, no out-of-filter event) came before it.
   */
  async function expectMarkerNext(client: WsClient, sub: string, filter: Filter, tag: string): Promise<void> {
    const markerType = (filter.types?.[0] ?? T.shipped) as (typeof T)["shipped"];
    const markerKey = filter.key ?? `${tag}-marker`;
    if (filter.types) {
      // A type outside the filter (with the filter's key, if any): only the type excludes it.
      const decoyType = [T.created, T.shipped, T.cancelled].find((t) => !filter.types!.includes(t))!;
      await publishOrder(decoyType, filter.key ?? `${tag}-decoy`);
    } else if (filter.key !== undefined) {
      await publishOrder(markerType, `${tag}-decoy`);
    }
    const marker = await publishOrder(markerType, markerKey);
    const [next] = await client.items(sub, 1);
    expect(next, `after the expected events of ${sub} the marker at ${marker}`).toMatchObject({ op: "event", sub, event: { offset: marker } });
  }

  // -------------------------------------------------------------------------------------------
  describe(`positions and filters (${kind})`, () => {
    let tag: string;
    let o: number[] = [];
    let cut: Date;
    let epoch: string;
    // C is no NATS subject token: dots, a space, a slash, non-ASCII.
    const key = (k: "A" | "B" | "C") => (k === "C" ? `${tag}.C é/1 *` : `${tag}-${k}`);

    beforeAll(async () => {
      tag = uid(`pos-${kind}-`);
      await publishOrder(T.created, key("A"));
      await publishOrder(T.shipped, key("A"));
      await publishOrder(T.created, key("B"));
      await sleep(60);
      cut = new Date();
      await sleep(60);
      await publishOrder(T.shipped, key("B"));
      await publishOrder(T.cancelled, key("A"));
      await publishOrder(T.shipped, key("C"));
      o = mirror.slice(-6).map((r) => r.offset);
      epoch = (await streamInfo()).epoch;
    });

    type S = MsgOf<"subscribed">;
    interface Row {
      name: string;
      position: () => Record<string, unknown>;
      filter?: () => Filter;
      /** The first offset delivered (before filtering); last_offset + 1 for live only. */
      start: (s: S) => number;
      /** A gap frame comes first, with these fields. */
      gap?: (s: S) => Record<string, unknown>;
      /** Every event delivered was stored after the cut. */
      afterCut?: true;
    }
    const rows: Row[] = [
      { name: "from=<offset>", position: () => ({ from: o[2] }), start: () => o[2]! },
      { name: "from=<last_offset> (one event)", position: () => ({ from: mirror.at(-1)!.offset }), start: (s) => s.last_offset },
      { name: "from=<last_offset + 1> (nothing stored yet, then live)", position: () => ({ from: mirror.at(-1)!.offset + 1 }), start: (s) => s.last_offset + 1 },
      { name: "from=first", position: () => ({ from: "first" }), start: (s) => s.first_offset },
      { name: "from=now", position: () => ({ from: "now" }), start: (s) => s.last_offset + 1 },
      { name: "no position (defaults to now)", position: () => ({}), start: (s) => s.last_offset + 1 },
      { name: "since=<time between two events>", position: () => ({ since: kind === "json" ? cut.toISOString() : cut }), start: () => o[3]!, afterCut: true },
      { name: "since=<long ago>", position: () => ({ since: kind === "json" ? "2000-01-01T00:00:00Z" : new Date("2000-01-01T00:00:00Z") }), start: (s) => s.first_offset },
      { name: "last=2", position: () => ({ last: 2 }), start: (s) => s.last_offset - 1 },
      { name: "last=1", position: () => ({ last: 1 }), start: (s) => s.last_offset },
      { name: "last=10000 (more than stored)", position: () => ({ last: 10_000 }), start: (s) => s.first_offset },
      { name: "from=<offset> with the right epoch", position: () => ({ from: o[1], epoch }), start: () => o[1]! },
      {
        name: "from=<offset> with a stale epoch: gap, then the oldest",
        position: () => ({ from: o[3], epoch: "stale-epoch" }),
        start: (s) => s.first_offset,
        gap: (s) => ({ stream: "orders", requested: o[3], first: s.first_offset, epoch: s.epoch }),
      },
      {
        name: "last=1 with a stale epoch: gap, then the oldest",
        position: () => ({ last: 1, epoch: "stale-epoch" }),
        start: (s) => s.first_offset,
        gap: (s) => ({ stream: "orders", requested: expect.any(Number), first: s.first_offset, epoch: s.epoch }),
      },
      { name: "types=[OrderShipped] from first", position: () => ({ from: "first" }), filter: () => ({ types: [T.shipped] }), start: (s) => s.first_offset },
      { name: "key=A from first", position: () => ({ from: "first" }), filter: () => ({ key: key("A") }), start: (s) => s.first_offset },
      {
        name: "types=[OrderCreated, OrderCancelled] and key=A from <offset>",
        position: () => ({ from: o[0] }),
        filter: () => ({ types: [T.created, T.cancelled], key: key("A") }),
        start: () => o[0]!,
      },
      { name: "key=<C: dots, space, non-ASCII> from first", position: () => ({ from: "first" }), filter: () => ({ key: key("C") }), start: (s) => s.first_offset },
      { name: "types=[OrderShipped] and key=<C> from <offset>", position: () => ({ from: o[0] }), filter: () => ({ types: [T.shipped], key: key("C") }), start: () => o[0]! },
      { name: "key=B since <time>", position: () => ({ since: kind === "json" ? cut.toISOString() : cut }), filter: () => ({ key: key("B") }), start: () => o[3]!, afterCut: true },
      { name: "types=[OrderShipped] from now (live only)", position: () => ({ from: "now" }), filter: () => ({ types: [T.shipped] }), start: (s) => s.last_offset + 1 },
    ];

    it.each(rows)("$name", async (row) => {
      await checkMirror();
      const client = await connect();
      const sub = uid("s");
      const filter = row.filter?.() ?? {};
      const position = row.position();
      const subscribed = await client.subscribe({ sub, stream: "orders", ...position, ...filter });
      const info = await streamInfo();
      expect(subscribed).toEqual({
        op: "subscribed",
        sub,
        stream: "orders",
        first_offset: info.first_offset,
        last_offset: mirror.at(-1)!.offset,
        epoch,
      });
      const start = row.start(subscribed);
      const expected = mirror.filter((r) => r.offset >= start && r.offset <= subscribed.last_offset && matches(r, filter));
      const items = await client.items(sub, expected.length + (row.gap ? 1 : 0));
      if (row.gap) {
        expect(items[0]).toEqual({ op: "gap", sub, ...row.gap(subscribed) });
        items.shift();
      }
      const events = items.map((i) => {
        expect(i.op, jsonish(i)).toBe("event");
        return (i as MsgOf<"event">).event;
      });
      expect(events.map((e) => e.offset)).toEqual(expected.map((r) => r.offset));
      events.forEach((e, i) => expectEnvelope(e, expected[i]!));
      if (row.afterCut) for (const e of events) expect(Date.parse(e.time)).toBeGreaterThanOrEqual(cut.getTime());
      await expectMarkerNext(client, sub, filter, tag);
      await client.close();
    });
  });

  // -------------------------------------------------------------------------------------------
  describe(`publish (${kind})`, () => {
    it("acks with offset and id; the same id again is a duplicate with the first offset, stored once", async () => {
      const client = await connect();
      const [e] = examples(uid(`pub-${kind}-`)).filter((x) => x.type === T.shipped);
      const id = uid("idem-");
      const sub = uid("s");
      await client.subscribe({ sub, stream: "orders" });

      const first = publishOp(kind, e!, { id });
      client.send(first);
      const ack = await client.nextOp("published", { ref: first.ref });
      expect(ack).toEqual({ op: "published", ref: first.ref, offset: expect.any(Number), id, duplicate: false });
      record({ offset: ack.offset, type: e!.type, key: e!.key });
      await checkMirror();

      const again = publishOp(kind, e!, { id });
      client.send(again);
      expect(await client.nextOp("published", { ref: again.ref })).toEqual({
        op: "published",
        ref: again.ref,
        offset: ack.offset,
        id,
        duplicate: true,
      });
      await checkMirror();

      const [delivered] = await client.events(sub, 1);
      expect(delivered).toMatchObject({ offset: ack.offset, id });
      expectExampleData(kind, delivered!, e!);
      await expectMarkerNext(client, sub, {}, uid("dup"));
    });

    it("generates distinct ids when none is given, and honours an explicit key", async () => {
      const client = await connect();
      const [e] = examples(uid(`gen-${kind}-`)).filter((x) => x.type === T.shipped);
      const a = publishOp(kind, e!);
      const b = publishOp(kind, e!, { key: "explicit-key" });
      client.send(a);
      client.send(b);
      const ackA = await client.nextOp("published", { ref: a.ref });
      const ackB = await client.nextOp("published", { ref: b.ref });
      for (const ack of [ackA, ackB]) {
        expect(ack.id).toMatch(EVENT_ID);
        expect(ack.duplicate).toBe(false);
      }
      expect(ackA.id).not.toBe(ackB.id);
      expect(ackB.offset).toBe(ackA.offset + 1);
      record({ offset: ackA.offset, type: e!.type, key: e!.key });
      record({ offset: ackB.offset, type: e!.type, key: "explicit-key" });
      await checkMirror();

      const sub = uid("s");
      await client.subscribe({ sub, stream: "orders", from: ackA.offset });
      const events = await client.events(sub, 2);
      expect(events.map((x) => [x.offset, x.id, x.key])).toEqual([
        [ackA.offset, ackA.id, e!.key],
        [ackB.offset, ackB.id, "explicit-key"],
      ]);
    });

    it("leaves out type on a stream with a single event type", async () => {
      const client = await connect();
      const [e] = examples(uid(`single-${kind}-`)).filter((x) => x.type === T.metric);
      const op = publishOp(kind, e!);
      delete (op as { type?: string }).type;
      const sub = uid("s");
      await client.subscribe({ sub, stream: "metrics" });
      client.send(op);
      const ack = await client.nextOp("published", { ref: op.ref });
      const [event] = await client.events(sub, 1);
      expect(event).toMatchObject({ stream: "metrics", offset: ack.offset, id: ack.id, type: T.metric });
      expectExampleData(kind, event!, e!);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe(`round trips (${kind})`, () => {
    it("every example event type comes back equal (published and read on this subprotocol)", async () => {
      const client = await connect();
      const subs = { orders: uid("rt-orders-"), metrics: uid("rt-metrics-") };
      await client.subscribe({ sub: subs.orders, stream: "orders" });
      await client.subscribe({ sub: subs.metrics, stream: "metrics" });
      const list = examples(uid(`rt-${kind}-`));
      const acks: MsgOf<"published">[] = [];
      for (const e of list) {
        const op = publishOp(kind, e);
        client.send(op);
        const ack = await client.nextOp("published", { ref: op.ref }).catch(async (err) => {
          throw new Error(`${e.name}: ${(err as Error).message}`);
        });
        acks.push(ack);
        if (e.stream === "orders") record({ offset: ack.offset, type: e.type, key: e.key });
      }
      for (const stream of ["orders", "metrics"] as const) {
        const mine = list.map((e, i) => ({ e, ack: acks[i]! })).filter((x) => x.e.stream === stream);
        const events = await client.events(subs[stream], mine.length);
        events.forEach((event, i) => {
          const { e, ack } = mine[i]!;
          expect(event).toMatchObject({ stream, offset: ack.offset, id: ack.id });
          expectExampleData(kind, event, e);
        });
      }
    });

    it(`every example event type published on ${other(kind)} reads equal on ${kind}`, async () => {
      const reader = await connect();
      const writer = await connect("/v1/ws", other(kind));
      const subs = { orders: uid("x-orders-"), metrics: uid("x-metrics-") };
      await reader.subscribe({ sub: subs.orders, stream: "orders" });
      await reader.subscribe({ sub: subs.metrics, stream: "metrics" });
      const list = examples(uid(`x-${kind}-`));
      for (const e of list) {
        const op = publishOp(other(kind), e);
        writer.send(op);
        const ack = await writer.nextOp("published", { ref: op.ref });
        if (e.stream === "orders") record({ offset: ack.offset, type: e.type, key: e.key });
        const [event] = await reader.events(subs[e.stream], 1);
        expect(event).toMatchObject({ offset: ack.offset, id: ack.id });
        expectExampleData(kind, event!, e);
      }
    });

    it("an event whose bytes do not decode is delivered, not dropped", async () => {
      const client = await connect();
      const sub = uid("s");
      await client.subscribe({ sub, stream: "orders" });
      const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x01]);
      const key = uid("raw-");
      const stored = await storeEvent(gw.gateway.session.backbone.js, { stream: "orders", type: T.created, key, data: garbage });
      record({ offset: stored.offset, type: T.created, key });
      const [event] = await client.events(sub, 1);
      expect(event).toMatchObject({ stream: "orders", offset: stored.offset, id: stored.id, type: T.created, key });
      if (kind === "json") {
        expect(event!.data).toBeNull();
        expect(event!.dataBase64).toBe(Buffer.from(garbage).toString("base64"));
      } else {
        expect(event!.bytes).toEqual(garbage);
      }
      await expectMarkerNext(client, sub, {}, uid("raw"));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe(`one connection, many subscriptions (${kind})`, () => {
    it("interleaves several subscriptions, each in order under its own sub", async () => {
      const client = await connect();
      const k = uid("K-");
      const subs = { shipped: uid("i-ship-"), keyK: uid("i-key-"), metrics: uid("i-met-"), all: uid("i-all-") };
      await Promise.all([
        client.subscribe({ sub: subs.shipped, stream: "orders", types: [T.shipped] }),
        client.subscribe({ sub: subs.keyK, stream: "orders", key: k }),
        client.subscribe({ sub: subs.metrics, stream: "metrics" }),
        client.subscribe({ sub: subs.all, stream: "orders", from: "now" }),
      ]);
      const c1 = await publishOrder(T.created, k);
      const s1 = await publishOrder(T.shipped, k);
      const m1 = await publishMetric(uid("m-"));
      const s2 = await publishOrder(T.shipped, uid("X-"));
      const x1 = await publishOrder(T.cancelled, k);
      const m2 = await publishMetric(uid("m-"));
      const s3 = await publishOrder(T.shipped, k);

      const expected = {
        shipped: [s1, s2, s3],
        keyK: [c1, s1, x1, s3],
        metrics: [m1, m2],
        all: [c1, s1, s2, x1, s3],
      };
      for (const name of Object.keys(subs) as (keyof typeof subs)[]) {
        const events = await client.events(subs[name], expected[name].length);
        expect(events.map((e) => e.offset), name).toEqual(expected[name]);
        for (const e of events) expect(e.stream).toBe(name === "metrics" ? "metrics" : "orders");
      }
      await client.ping();
      const rest = (await client.drain(300)).map((r) => r.msg).filter((m) => m.op === "event" || m.op === "gap");
      expect(rest).toEqual([]);
    });

    it("unsubscribe answers unsubscribed and stops that subscription only; the sub id can be used again", async () => {
      const client = await connect();
      const gone = uid("u-gone-");
      const kept = uid("u-kept-");
      await client.subscribe({ sub: gone, stream: "orders" });
      await client.subscribe({ sub: kept, stream: "orders" });
      const e1 = await publishOrder(T.shipped, uid("u-"));
      expect((await client.events(gone, 1))[0]!.offset).toBe(e1);
      expect((await client.events(kept, 1))[0]!.offset).toBe(e1);

      client.send({ op: "unsubscribe", sub: gone });
      const unsubscribed = await client.nextOp("unsubscribed", { sub: gone });
      expect(unsubscribed.op).toBe("unsubscribed");
      expect(unsubscribed.sub).toBe(gone);
      const at = client.history.findIndex((r) => r.msg.op === "unsubscribed" && r.msg.sub === gone);

      const e2 = await publishOrder(T.shipped, uid("u-"));
      const e3 = await publishOrder(T.created, uid("u-"));
      expect((await client.events(kept, 2)).map((e) => e.offset)).toEqual([e2, e3]);
      await client.ping();
      await sleep(200);
      const late = client.history.slice(at + 1).filter((r) => "sub" in r.msg && r.msg.sub === gone);
      expect(late.map((r) => r.msg)).toEqual([]);

      // The id is free again: a new subscription under it starts where asked.
      await client.subscribe({ sub: gone, stream: "orders", from: e3 });
      expect((await client.events(gone, 1))[0]!.offset).toBe(e3);
    });

    it("an unsubscribe sent right behind its subscribe ends it: nothing for that sub after unsubscribed", async () => {
      const client = await connect();
      const quick = uid("quick-");
      const witness = uid("witness-");
      await client.subscribe({ sub: witness, stream: "orders" });
      client.send({ op: "subscribe", sub: quick, stream: "orders", from: "first" });
      client.send({ op: "unsubscribe", sub: quick });
      await client.nextOp("unsubscribed", { sub: quick });
      const at = client.history.findIndex((r) => r.msg.op === "unsubscribed" && r.msg.sub === quick);
      const e = await publishOrder(T.shipped, uid("quick-"));
      expect((await client.events(witness, 1))[0]!.offset).toBe(e);
      await client.ping();
      await sleep(200);
      expect(client.history.slice(at + 1).filter((r) => "sub" in r.msg && r.msg.sub === quick).map((r) => r.msg)).toEqual([]);
    });

    it("ping answers pong with the same ref", async () => {
      const client = await connect();
      for (const ref of ["p-1", uid("p-"), "x".repeat(128)]) {
        client.send({ op: "ping", ref });
        expect(await client.nextOp("pong", { ref })).toEqual({ op: "pong", ref });
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe(`GET /v1/streams/{stream}/ws (${kind})`, () => {
    it("is subscribed at once with sub = the stream's name, position and filters from the query", async () => {
      await checkMirror();
      const client = await connect(`/v1/streams/orders/ws?from=first&types=${encodeURIComponent(T.shipped)}`);
      const subscribed = await client.nextOp("subscribed", { sub: "orders" });
      expect(subscribed).toMatchObject({ op: "subscribed", sub: "orders", stream: "orders", last_offset: mirror.at(-1)!.offset });
      const expected = mirror.filter((r) => r.type === T.shipped && r.offset <= subscribed.last_offset);
      expect(expected.length).toBeGreaterThan(0);
      const events = await client.events("orders", expected.length);
      expect(events.map((e) => e.offset)).toEqual(expected.map((r) => r.offset));
      await expectMarkerNext(client, "orders", { types: [T.shipped] }, uid("pre"));

      // The rest of the protocol works on the same connection.
      await client.ping();
      client.send({ op: "subscribe", sub: "orders", stream: "orders" });
      expect(await client.nextOp("error", { sub: "orders" })).toMatchObject({ op: "error", sub: "orders", code: "invalid_argument" });
      const sub = uid("s");
      await client.subscribe({ sub, stream: "metrics" });
      const m = await publishMetric(uid("m-"));
      expect((await client.events(sub, 1))[0]!.offset).toBe(m);
      client.send({ op: "unsubscribe", sub: "orders" });
      await client.nextOp("unsubscribed", { sub: "orders" });
    });

    it("takes last, key and epoch from the query; a stale epoch gives a gap frame first", async () => {
      const k = uid("pre-key-");
      const a = await publishOrder(T.created, k);
      await publishOrder(T.shipped, uid("pre-other-"));
      const b = await publishOrder(T.shipped, k);

      const byKey = await connect(`/v1/streams/orders/ws?from=${a}&key=${encodeURIComponent(k)}`);
      await byKey.nextOp("subscribed", { sub: "orders" });
      expect((await byKey.events("orders", 2)).map((e) => e.offset)).toEqual([a, b]);
      await expectMarkerNext(byKey, "orders", { key: k }, uid("pre"));

      const last = await connect(`/v1/streams/orders/ws?last=1`);
      const s = await last.nextOp("subscribed", { sub: "orders" });
      expect((await last.events("orders", 1))[0]!.offset).toBe(s.last_offset);

      const stale = await connect(`/v1/streams/orders/ws?from=${b}&epoch=stale`);
      const st = await stale.nextOp("subscribed", { sub: "orders" });
      const [gap, first] = await stale.items("orders", 2);
      expect(gap).toEqual({ op: "gap", sub: "orders", stream: "orders", requested: b, first: st.first_offset, epoch: st.epoch });
      expect(first).toMatchObject({ op: "event", sub: "orders", event: { offset: st.first_offset } });
    });

    const badQueries: { name: string; path: () => string; status: number; code: string}[] = [
      { name: "from=0", path: () => "/v1/streams/orders/ws?from=0", status: 400, code: "invalid_argument" },
      { name: "from=x", path: () => "/v1/streams/orders/ws?from=x", status: 400, code: "invalid_argument" },
      { name: "from=-3", path: () => "/v1/streams/orders/ws?from=-3", status: 400, code: "invalid_argument" },
      { name: "last=0", path: () => "/v1/streams/orders/ws?last=0", status: 400, code: "invalid_argument" },
      { name: "last=10001", path: () => "/v1/streams/orders/ws?last=10001", status: 400, code: "invalid_argument" },
      { name: "since=yesterday", path: () => "/v1/streams/orders/ws?since=yesterday", status: 400, code: "invalid_argument" },
      { name: "from and last", path: () => "/v1/streams/orders/ws?from=1&last=2", status: 400, code: "invalid_argument" },
      { name: "from twice", path: () => "/v1/streams/orders/ws?from=1&from=2", status: 400, code: "invalid_argument" },
      { name: "unknown type", path: () => `/v1/streams/orders/ws?types=${encodeURIComponent(T.metric)}`, status: 400, code: "invalid_argument" },
      { name: "empty key", path: () => "/v1/streams/orders/ws?key=", status: 400, code: "invalid_argument" },
      { name: "from beyond the end", path: () => `/v1/streams/orders/ws?from=${mirror.at(-1)!.offset + 2}`, status: 400, code: "invalid_argument" },
      { name: "unknown stream", path: () => "/v1/streams/nope/ws?from=first", status: 404, code: "not_found" },
    ];
    it.each(badQueries)("a bad query ($name) is refused with HTTP $status before the upgrade", async ({ path, status, code }) => {
      await checkMirror();
      const refused = await WsClient.refused(wsUrl(gw.url, path()), kind);
      expect(refused.status, refused.text).toBe(status);
      expect(refused.body).toMatchObject({ error: { code, message: expect.any(String) } });
      // The connection-level endpoint is unaffected.
      const ok = await connect();
      await ok.ping();
      await ok.close();
    });
  });

  return { gateway: () => gw };
}
