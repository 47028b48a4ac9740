/**
 * Black-box tests of publishing (PROTOCOL.md section 4), over real HTTP against an in-process
 * gateway on its own nats-server. Events are read back through GET /v1/streams/{s}/poll.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { clone, create, createFileRegistry, fromBinary, fromJson, toBinary } from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricSample } from "../../generated/ts/demo/metrics/v1/metrics.js";
import { OrderCancelled, OrderCancelled_Reason, OrderCreated, OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { EVENT_ID, RFC3339_UTC } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, expectError, type Client, type HttpResponse } from "../support/http.js";

const T = {
  created: "demo.orders.v1.OrderCreated",
  shipped: "demo.orders.v1.OrderShipped",
  cancelled: "demo.orders.v1.OrderCancelled",
  sample: "demo.metrics.v1.MetricSample",
} as const;

const PROTOBUF = "application/x-protobuf";

let gw: TestGateway;
let api: Client;
beforeAll(async () => {
  gw = await startTestGateway();
  api = client(gw.url);
});
afterAll(async () => gw?.close());

let uniq = 0;
/** A fresh event id (or order id) per call, so tests never collide in the duplicate window. */
function fresh(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++uniq}`;
}

async function lastOffset(c: Client, stream: string): Promise<number> {
  const res = await c.get(`/v1/streams/${stream}`);
  expect(res.status, res.text).toBe(200);
  return res.body.last_offset;
}

function publish(c: Client, stream: string, json: unknown, headers?: Record<string, string>): Promise<HttpResponse> {
  return c.postJson(`/v1/streams/${stream}/events`, json, headers);
}

function publishProto(
  c: Client,
  stream: string,
  bytes: Uint8Array,
  headers: Record<string, string>,
): Promise<HttpResponse> {
  return c.send({
    method: "POST",
    path: `/v1/streams/${stream}/events`,
    headers: { "content-type": PROTOBUF, ...headers },
    body: bytes,
  });
}

function batch(c: Client, stream: string, events: unknown[]): Promise<HttpResponse> {
  return c.postJson(`/v1/streams/${stream}/events:batch`, { events });
}

/** Asserts 201 {"offset","id","duplicate":false} and returns it. */
function expectCreated(res: HttpResponse): { offset: number; id: string; duplicate: boolean } {
  expect(res.status, res.text.slice(0, 500)).toBe(201);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ offset: expect.any(Number), id: expect.any(String), duplicate: false });
  expect(Number.isInteger(res.body.offset) && res.body.offset >= 1).toBe(true);
  expect(res.body.id).toMatch(EVENT_ID);
  return res.body;
}

/** The envelopes stored from `offset` on, read with a short poll (or a long one, given `wait`). */
async function readAt(c: Client, stream: string, offset: number, count = 1, wait = 0): Promise<any[]> {
  const res = await c.get(`/v1/streams/${stream}/poll?from=${offset}&wait=${wait}&max=${count}`);
  expect(res.status, res.text.slice(0, 500)).toBe(200);
  expect(Array.isArray(res.body.events)).toBe(true);
  const events = res.body.events as any[];
  expect(events.length, `events at ${stream}@${offset}`).toBeGreaterThanOrEqual(count);
  return events.slice(0, count);
}

async function readOne(c: Client, stream: string, offset: number, wait = 0): Promise<any> {
  const [event] = await readAt(c, stream, offset, 1, wait);
  expect(event.offset).toBe(offset);
  return event;
}

describe("publishing one event as JSON", () => {
  const examples: { name: string; stream: string; type: string; key: string; data: Record<string, unknown> }[] = [
    {
      name: "OrderCreated (repeated messages, int64, Timestamp with millis)",
      stream: "orders",
      type: T.created,
      key: "ord-ex-1",
      data: {
        orderId: "ord-ex-1",
        customerId: "cus-9",
        items: [
          { sku: "SKU-1", quantity: 2, unitPriceCents: "500" },
          { sku: "SKU-2", quantity: 1, unitPriceCents: "999" },
        ],
        totalCents: "1999",
        currency: "EUR",
        createdAt: "2026-11-22T10:00:00.123Z",
      },
    },
    {
      name: "OrderShipped (strings)",
      stream: "orders",
      type: T.shipped,
      key: "ord-ex-2",
      data: { orderId: "ord-ex-2", carrier: "DHL", trackingNumber: "JD000123" },
    },
    {
      name: "OrderCancelled (enum by name, unicode)",
      stream: "orders",
      type: T.cancelled,
      key: "ord-ex-3",
      data: { orderId: "ord-ex-3", reason: "REASON_OUT_OF_STOCK", note: "désolé ☕ 😀" },
    },
    {
      name: "MetricSample (double, map, Timestamp)",
      stream: "metrics",
      type: T.sample,
      key: "cpu.load",
      data: { name: "cpu.load", value: 0.75, labels: { host: "web-1", region: "eu" }, observedAt: "2026-11-22T10:00:00Z" },
    },
  ];

  it.each(examples)("$name: 201 at the next offset, read back as the canonical envelope", async (ex) => {
    const before = await lastOffset(api, ex.stream);
    const res = await publish(api, ex.stream, { type: ex.type, data: ex.data });
    const created = expectCreated(res);
    expect(created.offset).toBe(before + 1);
    expect(await lastOffset(api, ex.stream)).toBe(before + 1);

    const event = await readOne(api, ex.stream, created.offset);
    expect(event).toEqual({
      stream: ex.stream,
      offset: created.offset,
      id: created.id,
      type: ex.type,
      key: ex.key,
      time: expect.stringMatching(RFC3339_UTC),
      data: ex.data,
    });
    expect(Math.abs(Date.parse(event.time) - Date.now())).toBeLessThan(60_000);
  });

  it("accepts boundary values: int64 min/max as strings, uint32 max, zero values omitted on the way back", async () => {
    const data = {
      orderId: "ord-bounds",
      items: [{ sku: "S", quantity: 4294967295, unitPriceCents: "9223372036854775807" }],
      totalCents: "-9223372036854775808",
    };
    const created = expectCreated(await publish(api, "orders", { type: T.created, data }));
    expect((await readOne(api, "orders", created.offset)).data).toEqual(data);

    // Default values are omitted in canonical JSON: an explicit zero/empty reads back without them.
    const zeros = expectCreated(
      await publish(api, "orders", { type: T.cancelled, data: { orderId: "ord-zero", reason: "REASON_UNSPECIFIED", note: "" } }),
    );
    expect((await readOne(api, "orders", zeros.offset)).data).toEqual({ orderId: "ord-zero" });
  });

  it("accepts Content-Type application/json with a charset parameter", async () => {
    const res = await api.send({
      method: "POST",
      path: "/v1/streams/orders/events",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ type: T.shipped, data: { orderId: "ord-charset", carrier: "UPS" } }),
    });
    expectCreated(res);
  });

  it("gives consecutive offsets to consecutive publishes", async () => {
    const offsets: number[] = [];
    for (let i = 0; i < 5; i++) {
      offsets.push(expectCreated(await publish(api, "orders", { type: T.shipped, data: { orderId: `ord-seq-${i}` } })).offset);
    }
    expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + i));
  });
});

describe("event ids and idempotency", () => {
  it("generates distinct ids matching the id pattern when none is given", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const created = expectCreated(await publish(api, "orders", { type: T.shipped, data: { orderId: "ord-gen" } }));
      ids.add(created.id);
      expect((await readOne(api, "orders", created.offset)).id).toBe(created.id);
    }
    expect(ids.size).toBe(5);
  });

  it("keeps a producer's id as given: every allowed character, up to 128 of them", async () => {
    for (const id of [fresh("Az09_:-"), "x".repeat(100) + fresh("y").slice(0, 28).padEnd(28, "z")]) {
      expect(id.length).toBeLessThanOrEqual(128);
      const created = expectCreated(await publish(api, "orders", { type: T.shipped, id, data: { orderId: "o" } }));
      expect(created.id).toBe(id);
      expect((await readOne(api, "orders", created.offset)).id).toBe(id);
    }
  });

  it("stores an event once per body id: the repeat answers 200 duplicate:true with the first offset", async () => {
    const id = fresh("ord-idem-body");
    const first = expectCreated(
      await publish(api, "orders", { type: T.shipped, id, data: { orderId: "ord-idem", carrier: "first" } }),
    );
    expect(first.id).toBe(id);
    const afterFirst = await lastOffset(api, "orders");

    const again = await publish(api, "orders", { type: T.shipped, id, data: { orderId: "ord-idem", carrier: "first" } });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ offset: first.offset, id, duplicate: true });

    // A repeat with other data is still the same event: nothing new is stored.
    const other = await publish(api, "orders", { type: T.shipped, id, data: { orderId: "ord-idem", carrier: "second" } });
    expect(other.status, other.text).toBe(200);
    expect(other.body).toMatchObject({ offset: first.offset, id, duplicate: true });

    expect(await lastOffset(api, "orders")).toBe(afterFirst);
    expect((await readOne(api, "orders", first.offset)).data).toEqual({ orderId: "ord-idem", carrier: "first" });
  });

  it("takes the id from the Idempotency-Key header, for JSON and for protobuf bodies", async () => {
    const id = fresh("hdr");
    const first = expectCreated(
      await publish(api, "orders", { type: T.shipped, data: { orderId: "ord-hdr" } }, { "idempotency-key": id }),
    );
    expect(first.id).toBe(id);
    expect((await readOne(api, "orders", first.offset)).id).toBe(id);
    const before = await lastOffset(api, "orders");

    const again = await publish(api, "orders", { type: T.shipped, data: { orderId: "ord-hdr" } }, { "Idempotency-Key": id });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ offset: first.offset, id, duplicate: true });

    // The same id through a body id is the same event too.
    const viaBody = await publish(api, "orders", { type: T.shipped, id, data: { orderId: "ord-hdr" } });
    expect(viaBody.status, viaBody.text).toBe(200);
    expect(viaBody.body).toMatchObject({ offset: first.offset, id, duplicate: true });

    // And through a protobuf publish.
    const viaProto = await publishProto(api, "orders", OrderShipped.encode({ orderId: "ord-hdr", carrier: "", trackingNumber: "" }).finish(), {
      "streamgate-type": T.shipped,
      "idempotency-key": id,
    });
    expect(viaProto.status, viaProto.text).toBe(200);
    expect(viaProto.body).toMatchObject({ offset: first.offset, id, duplicate: true });

    expect(await lastOffset(api, "orders")).toBe(before);
  });

  it("deduplicates per stream: one id may be used once in each stream", async () => {
    const id = fresh("both");
    expectCreated(await publish(api, "orders", { type: T.shipped, id, data: { orderId: "o" } }));
    expectCreated(await publish(api, "metrics", { type: T.sample, id, data: { name: "m", value: 1 } }));
  });
});

describe("keys", () => {
  it("fills the key from the type's key field: order_id on orders, name on metrics", async () => {
    const shipped = expectCreated(await publish(api, "orders", { type: T.shipped, data: { orderId: "ord-k1" } }));
    expect((await readOne(api, "orders", shipped.offset)).key).toBe("ord-k1");
    const cancelled = expectCreated(await publish(api, "orders", { type: T.cancelled, data: { orderId: "ord-k2" } }));
    expect((await readOne(api, "orders", cancelled.offset)).key).toBe("ord-k2");
    const sample = expectCreated(await publish(api, "metrics", { data: { name: "mem.used", value: 3 } }));
    expect((await readOne(api, "metrics", sample.offset)).key).toBe("mem.used");
  });

  it("lets the body's key override the key field", async () => {
    const created = expectCreated(
      await publish(api, "orders", { type: T.shipped, key: "custom-key", data: { orderId: "ord-k3" } }),
    );
    const event = await readOne(api, "orders", created.offset);
    expect(event.key).toBe("custom-key");
    expect(event.data).toEqual({ orderId: "ord-k3" });
  });

  it("omits the key when the key field is empty and no key is given", async () => {
    const created = expectCreated(await publish(api, "orders", { type: T.shipped, data: { carrier: "DHL" } }));
    const event = await readOne(api, "orders", created.offset);
    expect(event).not.toHaveProperty("key");
    expect(event.data).toEqual({ carrier: "DHL" });
  });

  it("keeps keys with characters outside [A-Za-z0-9_-] exactly", async () => {
    for (const key of ["ord/ä 1.2", "a.b.c", "*", ">", "~x", "ünï cødé ☕"]) {
      const derived = expectCreated(await publish(api, "orders", { type: T.shipped, data: { orderId: key } }));
      expect((await readOne(api, "orders", derived.offset)).key).toBe(key);
      const given = expectCreated(await publish(api, "orders", { type: T.shipped, key, data: { orderId: "plain" } }));
      expect((await readOne(api, "orders", given.offset)).key).toBe(key);
    }
  });
});

describe("keys the backbone cannot carry as they are", () => {
  // A key is any string (a key field is any proto string). One with CR/LF or NUL cannot go into a
  // NATS header as it is: the gateway must store it faithfully or refuse it with 400; never 500,
  // and in a batch never after storing the events before it.
  const keys = { "CR LF": "ord\r\n1", LF: "ord\n2", NUL: "ord\u00003", TAB: "ord\t4" };

  it.each(Object.entries(keys))("%s in a key: stored exactly or refused with 400, single and derived", async (_, key) => {
    for (const body of [
      { type: T.shipped, key, data: { orderId: "plain" } },
      { type: T.shipped, data: { orderId: key } },
    ]) {
      const before = await lastOffset(api, "orders");
      const res = await publish(api, "orders", body);
      if (res.status === 201) {
        expect((await readOne(api, "orders", res.body.offset)).key).toBe(key);
      } else {
        expectError(res, 400, "invalid_argument", `publish ${JSON.stringify(body)}`);
        expect(await lastOffset(api, "orders")).toBe(before);
      }
    }
  });

  it.each(Object.entries(keys))("%s in a key in events[2] of a batch: all stored or none", async (_, key) => {
    const before = await lastOffset(api, "orders");
    const res = await batch(api, "orders", [
      { type: T.shipped, data: { orderId: "b0" } },
      { type: T.shipped, data: { orderId: "b1" } },
      { type: T.shipped, data: { orderId: key } },
    ]);
    if (res.status === 201) {
      expect(await lastOffset(api, "orders")).toBe(before + 3);
      expect((await readOne(api, "orders", before + 3)).key).toBe(key);
    } else {
      expect.soft(await lastOffset(api, "orders"), `nothing of a refused batch is stored (answer: ${res.status})`).toBe(before);
      expectError(res, 400, "invalid_argument", `batch with key ${JSON.stringify(key)} in events[2]`);
    }
  });
});

describe("type", () => {
  it("may be left out on metrics, the stream with one event type", async () => {
    const created = expectCreated(await publish(api, "metrics", { data: { name: "no.type", value: 2.5 } }));
    const event = await readOne(api, "metrics", created.offset);
    expect(event.type).toBe(T.sample);
    expect(event.data).toEqual({ name: "no.type", value: 2.5 });
  });
});

describe("publishing protobuf bodies", () => {
  it("round-trips an encoded OrderCreated, with Streamgate-Key and Idempotency-Key", async () => {
    const id = fresh("proto");
    const bytes = OrderCreated.encode({
      orderId: "ord-pb-1",
      customerId: "cus-1",
      items: [{ sku: "SKU-9", quantity: 3, unitPriceCents: 250n }],
      totalCents: 750n,
      currency: "USD",
      createdAt: { seconds: 1795341600n, nanos: 500_000_000 },
    }).finish();
    const before = await lastOffset(api, "orders");
    const res = await publishProto(api, "orders", bytes, {
      "streamgate-type": T.created,
      "streamgate-key": "pb-key",
      "idempotency-key": id,
    });
    const created = expectCreated(res);
    expect(created).toMatchObject({ id, offset: before + 1 });

    expect(await readOne(api, "orders", created.offset)).toEqual({
      stream: "orders",
      offset: created.offset,
      id,
      type: T.created,
      key: "pb-key",
      time: expect.stringMatching(RFC3339_UTC),
      data: {
        orderId: "ord-pb-1",
        customerId: "cus-1",
        items: [{ sku: "SKU-9", quantity: 3, unitPriceCents: "250" }],
        totalCents: "750",
        currency: "USD",
        createdAt: new Date(1795341600500).toISOString(),
      },
    });

    const again = await publishProto(api, "orders", bytes, { "streamgate-type": T.created, "idempotency-key": id });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ offset: created.offset, id, duplicate: true });
  });

  it("derives the key from the key field when Streamgate-Key is absent", async () => {
    const bytes = OrderCancelled.encode({ orderId: "ord-pb-2", reason: OrderCancelled_Reason.REASON_PAYMENT_FAILED, note: "n" }).finish();
    const created = expectCreated(await publishProto(api, "orders", bytes, { "streamgate-type": T.cancelled }));
    const event = await readOne(api, "orders", created.offset);
    expect(event.key).toBe("ord-pb-2");
    expect(event.type).toBe(T.cancelled);
    expect(event.data).toEqual({ orderId: "ord-pb-2", reason: "REASON_PAYMENT_FAILED", note: "n" });
  });

  it("needs no Streamgate-Type on metrics, the stream with one event type", async () => {
    const bytes = MetricSample.encode({ name: "pb.metric", value: -1.25, labels: { a: "b" }, observedAt: undefined }).finish();
    const created = expectCreated(await publishProto(api, "metrics", bytes, {}));
    const event = await readOne(api, "metrics", created.offset);
    expect(event).toMatchObject({ type: T.sample, key: "pb.metric", data: { name: "pb.metric", value: -1.25, labels: { a: "b" } } });
  });

  it("accepts an empty body: the encoding of a message with every field at its default", async () => {
    const created = expectCreated(await publishProto(api, "orders", new Uint8Array(0), { "streamgate-type": T.shipped }));
    const event = await readOne(api, "orders", created.offset);
    expect(event.data).toEqual({});
    expect(event).not.toHaveProperty("key");
  });
});

describe("batch publishing", () => {
  it("stores mixed events in order at consecutive offsets and answers one result per event", async () => {
    const id = fresh("batch");
    const events = [
      { type: T.created, data: { orderId: "ord-b1", totalCents: "100" } },
      { type: T.shipped, id, data: { orderId: "ord-b1", carrier: "UPS" } },
      { type: T.cancelled, key: "k-b", data: { orderId: "ord-b2", reason: "REASON_CUSTOMER_REQUEST" } },
    ];
    const before = await lastOffset(api, "orders");
    const res = await batch(api, "orders", events);
    expect(res.status, res.text.slice(0, 500)).toBe(201);
    const results = res.body.results as { offset: number; id: string; duplicate: boolean }[];
    expect(results).toHaveLength(3);
    results.forEach((r, i) => {
      expect(r).toMatchObject({ offset: before + 1 + i, id: expect.stringMatching(EVENT_ID), duplicate: false });
    });
    expect(results[1]!.id).toBe(id);
    expect(new Set(results.map((r) => r.id)).size).toBe(3);
    expect(await lastOffset(api, "orders")).toBe(before + 3);

    const read = await readAt(api, "orders", before + 1, 3);
    expect(read.map((e) => [e.offset, e.id, e.type, e.key, e.data])).toEqual([
      [before + 1, results[0]!.id, T.created, "ord-b1", { orderId: "ord-b1", totalCents: "100" }],
      [before + 2, id, T.shipped, "ord-b1", { orderId: "ord-b1", carrier: "UPS" }],
      [before + 3, results[2]!.id, T.cancelled, "k-b", { orderId: "ord-b2", reason: "REASON_CUSTOMER_REQUEST" }],
    ]);
  });

  it("reports ids already stored as duplicates with their first offsets, also within one batch", async () => {
    const stored = fresh("bdup-stored");
    const first = expectCreated(await publish(api, "orders", { type: T.shipped, id: stored, data: { orderId: "o1" } }));
    const twice = fresh("bdup-twice");
    const before = await lastOffset(api, "orders");
    const res = await batch(api, "orders", [
      { type: T.shipped, id: stored, data: { orderId: "o1" } },
      { type: T.shipped, id: twice, data: { orderId: "o2" } },
      { type: T.shipped, id: twice, data: { orderId: "o2" } },
      { type: T.shipped, data: { orderId: "o3" } },
    ]);
    expect(res.status, res.text).toBe(201);
    expect(res.body.results).toEqual([
      { offset: first.offset, id: stored, duplicate: true },
      { offset: before + 1, id: twice, duplicate: false },
      { offset: before + 1, id: twice, duplicate: true },
      { offset: before + 2, id: expect.stringMatching(EVENT_ID), duplicate: false },
    ]);
    expect(await lastOffset(api, "orders")).toBe(before + 2);
  });

  it("takes 1000 events (the maximum), type omitted on metrics", async () => {
    const before = await lastOffset(api, "metrics");
    const events = Array.from({ length: 1000 }, (_, i) => ({ data: { name: `batch.m${i % 7}`, value: i } }));
    const res = await batch(api, "metrics", events);
    expect(res.status, res.text.slice(0, 500)).toBe(201);
    const results = res.body.results as { offset: number; duplicate: boolean }[];
    expect(results).toHaveLength(1000);
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => before + 1 + i));
    expect(results.every((r) => r.duplicate === false)).toBe(true);
    expect(await lastOffset(api, "metrics")).toBe(before + 1000);
    const [e999] = await readAt(api, "metrics", before + 1000, 1);
    expect(e999).toMatchObject({ type: T.sample, key: "batch.m5", data: { name: "batch.m5", value: 999 } });
  });
});

describe("body size limit", () => {
  it("takes a JSON body just under 1 MiB and refuses one just over with 413 payload_too_large", async () => {
    const envelope = (note: string) => JSON.stringify({ type: T.cancelled, data: { orderId: "ord-big", note } });
    const overhead = envelope("").length;
    const under = envelope("u".repeat(1_000_000 - overhead));
    expect(under.length).toBe(1_000_000);
    const created = expectCreated(
      await api.send({ method: "POST", path: "/v1/streams/orders/events", headers: { "content-type": "application/json" }, body: under }),
    );
    expect((await readOne(api, "orders", created.offset, 10)).data.note).toHaveLength(1_000_000 - overhead);

    const before = await lastOffset(api, "orders");
    const over = envelope("o".repeat(1024 * 1024 + 1 - overhead));
    const res = await api.send({ method: "POST", path: "/v1/streams/orders/events", headers: { "content-type": "application/json" }, body: over });
    expectError(res, 413, "payload_too_large", "1 MiB + 1 JSON body");
    expect(await lastOffset(api, "orders")).toBe(before);
  });

  it("serves a large stored event to a short poll (wait=0) at once, every time", async () => {
    // A short poll answers with what is stored. An event acknowledged with 201 is stored, so a
    // short poll from its offset must return it, not {"events":[]} next to last_offset >= from.
    const empties: string[] = [];
    for (let i = 0; i < 80; i++) {
      const created = expectCreated(await publish(api, "orders", { type: T.cancelled, data: { orderId: "ord-large", note: "L".repeat(900_000) } }));
      const res = await api.get(`/v1/streams/orders/poll?from=${created.offset}&wait=0&max=1`);
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      if (res.body.events.length !== 1) empties.push(`from=${created.offset}: ${res.text.slice(0, 200)}`);
    }
    expect(empties, "short polls that missed a stored event").toEqual([]);
  });

  it("answers a JSON body of exactly 1 MiB with a long key with 201 (stored) or 413, never a 5xx", async () => {
    // The stored message is the encoded data plus headers (type, key, id): a body within the
    // limit may still not fit the backbone's own 1 MiB message limit. Either store it or say 413.
    const orderId = "k".repeat(1000);
    const envelope = (note: string) => JSON.stringify({ type: T.cancelled, id: "i".repeat(128), data: { orderId, note } });
    const overhead = envelope("").length;
    const body = envelope("j".repeat(1024 * 1024 - overhead));
    expect(body.length).toBe(1024 * 1024);

    const before = await lastOffset(api, "orders");
    const res = await api.send({ method: "POST", path: "/v1/streams/orders/events", headers: { "content-type": "application/json" }, body });
    if (res.status === 201) {
      const event = await readOne(api, "orders", res.body.offset, 10);
      expect(event.key).toBe(orderId);
      expect(event.data.note).toHaveLength(1024 * 1024 - overhead);
    } else {
      expectError(res, 413, "payload_too_large", "JSON body of exactly 1 MiB with a 1000-character key");
      expect(await lastOffset(api, "orders")).toBe(before);
    }
  });

  it("answers a protobuf body of exactly 1 MiB with 201 (stored) or 413, never a 5xx", async () => {
    // field 3 (note), length-delimited, sized so that the whole body is exactly 1 MiB.
    const total = 1024 * 1024;
    const noteLength = total - 1 - 3; // tag byte + 3-byte varint length
    const body = new Uint8Array(total);
    body[0] = 0x1a;
    body.set([(noteLength & 0x7f) | 0x80, ((noteLength >> 7) & 0x7f) | 0x80, noteLength >> 14], 1);
    body.fill(0x6e, 4);
    expect(OrderCancelled.decode(body).note).toHaveLength(noteLength);

    const before = await lastOffset(api, "orders");
    const res = await publishProto(api, "orders", body, { "streamgate-type": T.cancelled });
    if (res.status === 201) {
      expect((await readOne(api, "orders", res.body.offset, 10)).data.note).toHaveLength(noteLength);
    } else {
      expectError(res, 413, "payload_too_large", "protobuf body of exactly 1 MiB");
      expect(await lastOffset(api, "orders")).toBe(before);
    }
  });

  describe("with STREAMGATE_MAX_BODY_BYTES=4096", () => {
    let small: TestGateway;
    let smallApi: Client;
    beforeAll(async () => {
      small = await startTestGateway({ STREAMGATE_MAX_BODY_BYTES: "4096" });
      smallApi = client(small.url);
    });
    afterAll(async () => small?.close());

    it("takes bodies up to the limit and refuses larger ones, single, protobuf and batch", async () => {
      const body = (size: number) => {
        const head = JSON.stringify({ type: T.cancelled, data: { orderId: "o", note: "" } });
        return JSON.stringify({ type: T.cancelled, data: { orderId: "o", note: "n".repeat(size - head.length) } });
      };
      const send = (text: string) =>
        smallApi.send({ method: "POST", path: "/v1/streams/orders/events", headers: { "content-type": "application/json" }, body: text });

      expect(body(4096)).toHaveLength(4096);
      expectCreated(await send(body(3000)));
      expectCreated(await send(body(4096)));
      expectError(await send(body(4097)), 413, "payload_too_large", "4097-byte JSON body");
      expectError(await send(body(5000)), 413, "payload_too_large", "5000-byte JSON body");

      const pb = OrderCancelled.encode({ orderId: "o", reason: 0, note: "p".repeat(5000) }).finish();
      expectError(await publishProto(smallApi, "orders", pb, { "streamgate-type": T.cancelled }), 413, "payload_too_large", "5000-byte protobuf");

      const events = Array.from({ length: 50 }, (_, i) => ({ type: T.shipped, data: { orderId: `ord-${i}`, carrier: "c".repeat(100) } }));
      expectError(await batch(smallApi, "orders", events), 413, "payload_too_large", "batch over 4096 bytes");
      expect(await lastOffset(smallApi, "orders")).toBe(2);
    });
  });
});

describe("an event type loaded from the descriptor set at start", () => {
  const REFUNDED = "demo.orders.v1.OrderRefunded";
  let extra: TestGateway;
  let extraApi: Client;
  let dir: string;
  let registry: ReturnType<typeof createFileRegistry>;

  beforeAll(async () => {
    // The shipped descriptor set plus a type the generated code has never seen:
    // message OrderRefunded { option (streamgate.v1.event) = {stream: "orders", key_field: "order_id"};
    //                         string order_id = 1; int64 amount_cents = 2; }
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../../generated/descriptors.binpb", import.meta.url)));
    const file = set.file.find((f) => f.name === "demo/orders/v1/orders.proto")!;
    const refunded = clone(DescriptorProtoSchema, file.messageType.find((m) => m.name === "OrderShipped")!);
    refunded.name = "OrderRefunded";
    refunded.field = [
      refunded.field.find((f) => f.name === "order_id")!,
      create(FieldDescriptorProtoSchema, {
        name: "amount_cents",
        number: 2,
        type: FieldDescriptorProto_Type.INT64,
        label: FieldDescriptorProto_Label.OPTIONAL,
        jsonName: "amountCents",
      }),
    ];
    file.messageType.push(refunded);
    registry = createFileRegistry(set);
    dir = await mkdtemp(join(tmpdir(), "streamgate-publish-test-"));
    const path = join(dir, "descriptors.binpb");
    await writeFile(path, toBinary(FileDescriptorSetSchema, set));
    extra = await startTestGateway({ STREAMGATE_DESCRIPTOR_SET: path });
    extraApi = client(extra.url);
  });
  afterAll(async () => {
    await extra?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists, accepts (JSON and protobuf), checks and serves a type no generated code knows", async () => {
    const info = await extraApi.get("/v1/streams/orders");
    expect(info.body.types).toContain(REFUNDED);

    const json = expectCreated(
      await publish(extraApi, "orders", { type: REFUNDED, data: { orderId: "ord-r1", amountCents: "1999" } }),
    );
    expect(await readOne(extraApi, "orders", json.offset)).toMatchObject({
      type: REFUNDED,
      key: "ord-r1",
      data: { orderId: "ord-r1", amountCents: "1999" },
    });

    const desc = registry.getMessage(REFUNDED)!;
    const bytes = toBinary(desc, fromJson(desc, { orderId: "ord-r2", amountCents: "-5" }));
    const pb = expectCreated(await publishProto(extraApi, "orders", bytes, { "streamgate-type": REFUNDED }));
    expect(await readOne(extraApi, "orders", pb.offset)).toMatchObject({
      type: REFUNDED,
      key: "ord-r2",
      data: { orderId: "ord-r2", amountCents: "-5" },
    });

    // Checked as strictly as the compiled-in types.
    const bad = await publish(extraApi, "orders", { type: REFUNDED, data: { orderId: "o", amountCents: "lots" } });
    expectError(bad, 400, "invalid_argument", "bad amountCents");
    expect(bad.body.error.details?.map((d: { path: string }) => d.path)).toContain("data.amountCents");

    // The shipped types still work next to it.
    expectCreated(await publish(extraApi, "orders", { type: T.shipped, data: { orderId: "ord-r1" } }));
  });
});
