// PROTOCOL.md section 4: stream info, publishing, and the error body everywhere.
import { describe, expect, it } from "vitest";
import {
  EVENT_ID,
  RFC3339_UTC,
  encodeOrderShipped,
  errorOf,
  offsetsOf,
  poll,
  postJson,
  publish,
  request,
  shipped,
  streamInfo,
  uniqueKey,
  type Json,
  type JsonObject,
  type Reply,
  useStack,
} from "./support.js";

const stack = useStack();
const events = (stream: string) => `${stack().base}/v1/streams/${stream}/events`;

const STREAM_INFO_FIELDS = ["name", "description", "types", "first_offset", "last_offset", "events", "bytes", "epoch", "created"];

function expectError(reply: Reply, status: number, code: string): { message: string; details?: Array<{ path: string; message: string }> } {
  expect({ status: reply.status, body: reply.text }).toEqual({ status, body: expect.any(String) });
  expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
  const error = errorOf(reply);
  expect(error.code).toBe(code);
  return error;
}

async function lastOffset(stream: string): Promise<number> {
  return (await streamInfo(stack().base, stream)).last_offset;
}

describe("stream info (section 4)", () => {
  it("GET /v1/streams lists orders and metrics with every StreamInfo field", async () => {
    const reply = await request(`${stack().base}/v1/streams`);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json)).toEqual(["streams"]);
    const streams = reply.json.streams as JsonObject[];
    const byName = Object.fromEntries(streams.map((info) => [info.name, info]));
    expect(Object.keys(byName).sort()).toEqual(["metrics", "orders"]);
    for (const info of streams) {
      expect(Object.keys(info).sort()).toEqual([...STREAM_INFO_FIELDS].sort());
      expect(info.created).toMatch(RFC3339_UTC);
      expect(typeof info.epoch).toBe("string");
      expect((info.epoch as string).length).toBeGreaterThan(0);
    }
    expect(byName.orders).toMatchObject({
      description: "Order lifecycle: created, shipped, cancelled.",
      types: ["demo.orders.v1.OrderCreated", "demo.orders.v1.OrderShipped", "demo.orders.v1.OrderCancelled"],
    });
    expect(byName.metrics).toMatchObject({
      description: "Samples of named measurements, for dashboards and demos.",
      types: ["demo.metrics.v1.MetricSample"],
    });
  });

  it("GET /v1/streams/{stream} follows what is published", async () => {
    const before = await streamInfo(stack().base, "orders");
    const { offset } = await publish(stack().base, "orders", shipped(uniqueKey("info"), 1));
    const after = await streamInfo(stack().base, "orders");
    expect(Object.keys(after).sort()).toEqual([...STREAM_INFO_FIELDS].sort());
    expect(after).toMatchObject({ name: "orders", last_offset: offset, epoch: before.epoch, created: before.created });
    expect(after.events).toBe((before.events as number) + 1);
    expect(after.bytes as number).toBeGreaterThan(before.bytes as number);
    expect(after.first_offset).toBe(1);
  });

  it("an unknown stream is 404 not_found on every route", async () => {
    const routes: Array<[string, RequestInit]> = [
      ["/v1/streams/nope", {}],
      ["/v1/streams/nope/poll?wait=0", {}],
      ["/v1/streams/nope/sse", {}],
      ["/v1/streams/nope/events", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
      ["/v1/streams/nope/events:batch", { method: "POST", headers: { "content-type": "application/json" }, body: '{"events":[]}' }],
    ];
    for (const [path, init] of routes) {
      const reply = await request(`${stack().base}${path}`, init);
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
      expect(errorOf(reply).code).toBe("not_found");
    }
  });
});

describe("publishing (section 4)", () => {
  it("JSON publish is 201 {offset,id,duplicate:false}; the same Idempotency-Key is 200 with the first offset", async () => {
    const key = uniqueKey("idem");
    const body = shipped(key, 1);
    const first = await postJson(events("orders"), body, { "idempotency-key": `${key}-shipped` });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ offset: expect.any(Number), id: `${key}-shipped`, duplicate: false });
    const again = await postJson(events("orders"), body, { "idempotency-key": `${key}-shipped` });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ offset: first.json.offset, id: `${key}-shipped`, duplicate: true });
    expect(await lastOffset("orders")).toBe(first.json.offset);

    const generated = await postJson(events("orders"), body);
    expect(generated.status).toBe(201);
    expect(generated.json.id).toMatch(EVENT_ID);
    expect(generated.json.id).not.toBe(`${key}-shipped`);

    const inBody = await postJson(events("orders"), { ...body, id: `${key}-body-id` });
    expect(inBody.json).toEqual({ offset: (generated.json.offset as number) + 1, id: `${key}-body-id`, duplicate: false });
    const badId = await postJson(events("orders"), body, { "idempotency-key": "has spaces!" });
    expectError(badId, 400, "invalid_argument");
  });

  it("type may be left out on a stream with one event type, not on one with several", async () => {
    const name = uniqueKey("m");
    const ok = await postJson(events("metrics"), { data: { name, value: 1 } });
    expect(ok.status).toBe(201);
    const polled = await poll(stack().base, "metrics", `from=${ok.json.offset}&wait=0&max=1`);
    expect((polled.json.events as JsonObject[])[0]).toMatchObject({ type: "demo.metrics.v1.MetricSample", key: name });

    const ambiguous = await postJson(events("orders"), { data: { orderId: "x" } });
    expect(expectError(ambiguous, 400, "invalid_argument").message).toMatch(/type/);
    const wrongStream = await postJson(events("orders"), { type: "demo.metrics.v1.MetricSample", data: {} });
    expectError(wrongStream, 400, "invalid_argument");
  });

  it("a protobuf body with Streamgate-Type is stored and read back as JSON; bytes that do not decode are 400", async () => {
    const key = uniqueKey("pb");
    const body = encodeOrderShipped({ orderId: key, carrier: "ups", trackingNumber: "1Z" });
    const reply = await request(events("orders"), {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "streamgate-type": "demo.orders.v1.OrderShipped" },
      body,
    });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({ offset: expect.any(Number), id: expect.stringMatching(EVENT_ID), duplicate: false });
    const polled = await poll(stack().base, "orders", `from=${reply.json.offset}&wait=0&max=1`);
    expect((polled.json.events as JsonObject[])[0]).toMatchObject({
      type: "demo.orders.v1.OrderShipped",
      key,
      data: { orderId: key, carrier: "ups", trackingNumber: "1Z" },
    });

    const metricKey = uniqueKey("pbkey");
    const keyed = await request(events("metrics"), {
      method: "POST",
      headers: {
        "content-type": "application/x-protobuf",
        "streamgate-type": "demo.metrics.v1.MetricSample",
        "streamgate-key": metricKey,
      },
      body: new Uint8Array([0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), // value (field 2, double) = 1
    });
    expect(keyed.status).toBe(201);
    const keyedEvent = (await poll(stack().base, "metrics", `from=${keyed.json.offset}&wait=0&max=1`)).json.events as JsonObject[];
    expect(keyedEvent[0]).toMatchObject({ key: metricKey, data: { value: 1 } });

    const before = await lastOffset("orders");
    const garbage = await request(events("orders"), {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "streamgate-type": "demo.orders.v1.OrderShipped" },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
    });
    expectError(garbage, 400, "invalid_argument");
    const untyped = await request(events("orders"), {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body,
    });
    expectError(untyped, 400, "invalid_argument");
    expect(await lastOffset("orders")).toBe(before);
  });

  it("JSON data is checked strictly, with the field path in details", async () => {
    const created = (data: JsonObject) => ({ type: "demo.orders.v1.OrderCreated", data });
    const cases: Array<[JsonObject, string]> = [
      [created({ orderId: "o", items: [{ sku: "a", quantity: -1 }] }), "data.items[0].quantity"],
      [created({ orderId: "o", items: [{ sku: "a", quantity: 4294967296 }] }), "data.items[0].quantity"],
      [created({ orderId: "o", totalCents: "twelve" }), "data.totalCents"],
      [created({ orderId: "o", bogus: 1 }), "data.bogus"],
      [created({ orderId: 17 }), "data.orderId"],
      [{ type: "demo.orders.v1.OrderCancelled", data: { orderId: "o", reason: "REASON_BORED" } }, "data.reason"],
    ];
    const before = await lastOffset("orders");
    for (const [body, path] of cases) {
      const reply = await postJson(events("orders"), body);
      expect({ path, status: reply.status, body: reply.text }).toEqual({ path, status: 400, body: expect.any(String) });
      const error = expectError(reply, 400, "invalid_argument");
      expect({ path, details: error.details }).toEqual({ path, details: [expect.objectContaining({ path })] });
      expect(typeof error.details![0]!.message).toBe("string");
    }
    const unknownType = await postJson(events("orders"), { type: "demo.orders.v1.Nope", data: {} });
    expect(expectError(unknownType, 400, "invalid_argument").message).toContain("demo.orders.v1.Nope");
    const notJson = await request(events("orders"), { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expectError(notJson, 400, "invalid_argument");
    const noData = await postJson(events("orders"), { type: "demo.orders.v1.OrderShipped" });
    expectError(noData, 400, "invalid_argument");
    expect(await lastOffset("orders")).toBe(before);
  });

  it("an impossible date in a Timestamp field is a 400 at its path, never stored as another day", async () => {
    const before = await lastOffset("orders");
    const reply = await postJson(events("orders"), {
      type: "demo.orders.v1.OrderCreated",
      data: { orderId: uniqueKey("feb30"), createdAt: "2026-02-30T00:00:00Z" },
    });
    expect({ status: reply.status, body: reply.text }).toEqual({ status: 400, body: expect.any(String) });
    expect(expectError(reply, 400, "invalid_argument").details).toEqual([expect.objectContaining({ path: "data.createdAt" })]);
    expect(await lastOffset("orders")).toBe(before);
  });

  it("a batch is all-or-nothing: 201 with a result per event, or 400 storing none", async () => {
    const key = uniqueKey("batch");
    const ok = await postJson(`${events("orders")}:batch`, { events: [shipped(key, 1), { ...shipped(key, 2), id: `${key}-2` }] });
    expect(ok.status).toBe(201);
    const results = ok.json.results as JsonObject[];
    expect(results).toEqual([
      { offset: expect.any(Number), id: expect.stringMatching(EVENT_ID), duplicate: false },
      { offset: (results[0]!.offset as number) + 1, id: `${key}-2`, duplicate: false },
    ]);
    const polled = await poll(stack().base, "orders", `from=${results[0]!.offset}&key=${key}&wait=0`);
    expect(offsetsOf(polled.json.events as Json[])).toEqual(results.map((result) => result.offset));

    const before = await lastOffset("orders");
    const mixed = await postJson(`${events("orders")}:batch`, {
      events: [shipped(key, 3), { type: "demo.orders.v1.OrderCreated", data: { orderId: key, items: [{ quantity: -1 }] } }],
    });
    const error = expectError(mixed, 400, "invalid_argument");
    expect(error.details?.[0]?.path).toMatch(/1.*data\.items\[0\]\.quantity$/);
    expect(await lastOffset("orders")).toBe(before);

    const tooMany = await postJson(`${events("orders")}:batch`, { events: Array.from({ length: 1001 }, (_, n) => shipped(key, n)) });
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
    errorOf(tooMany);
    expect(await lastOffset("orders")).toBe(before);
  });

  it("wrong media type is 415, a body over the limit is 413", async () => {
    const plain = await request(events("orders"), { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
    expectError(plain, 415, "unsupported_media_type");
    const huge = await postJson(events("orders"), { ...shipped("big", 1), data: { orderId: "big", carrier: "x".repeat(1_100_000) } });
    expectError(huge, 413, "payload_too_large");
  });
});

describe("refusing what is wrong (section 4)", () => {
  it("an unknown query parameter is a 4xx naming it, on every read", async () => {
    for (const path of ["/v1/streams/orders/poll?frm=first&wait=0", "/v1/streams/orders/sse?frm=first", "/v1/streams/orders/ws?frm=first"]) {
      const reply = await request(`${stack().base}${path}`);
      expect({ path, status: reply.status }).toEqual({ path, status: 400 });
      expect(errorOf(reply).message).toContain("frm");
    }
  });

  it("an impossible date is a 4xx naming it", async () => {
    for (const path of ["poll", "sse"]) {
      const wait = path === "poll" ? "&wait=0" : "";
      const reply = await request(`${stack().base}/v1/streams/orders/${path}?since=2026-02-30T00:00:00Z${wait}`);
      expect({ path, status: reply.status }).toEqual({ path, status: 400 });
      const message = errorOf(reply).message;
      expect(message).toMatch(/since|2026-02-30/);
    }
  });

  it("a wrong method on a known path is 405 with Allow", async () => {
    const cases: Array<[string, string, string]> = [
      ["DELETE", "/v1/streams/orders/events", "POST"],
      ["GET", "/v1/streams/orders/events", "POST"],
      ["PUT", "/v1/streams", "GET"],
      ["POST", "/v1/streams/orders", "GET"],
      ["POST", "/v1/streams/orders/poll", "GET"],
      ["PUT", "/v1/webhooks", "POST"],
    ];
    for (const [method, path, allowed] of cases) {
      const reply = await request(`${stack().base}${path}`, { method });
      expect({ method, path, status: reply.status }).toEqual({ method, path, status: 405 });
      expect(reply.headers.get("allow")?.split(/,\s*/)).toContain(allowed);
      const error = errorOf(reply);
      expect(error.message).toContain(method);
    }
  });

  it("an unknown path is a 404 with the error body", async () => {
    const reply = await request(`${stack().base}/v1/nothing-here`);
    expectError(reply, 404, "not_found");
  });

  it("bad poll parameters are 400 naming them", async () => {
    for (const [query, name] of [
      ["max=0", "max"],
      ["max=1001", "max"],
      ["wait=61", "wait"],
      ["wait=-1", "wait"],
      ["wait=soon", "wait"],
    ] as const) {
      const reply = await poll(stack().base, "orders", query);
      expect({ query, status: reply.status }).toEqual({ query, status: 400 });
      expect(errorOf(reply).message).toContain(name);
    }
  });
});
