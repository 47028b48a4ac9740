/**
 * Bad input, black-box: every row is one request the gateway must refuse with the protocol's
 * error shape and code (PROTOCOL.md sections 3 and 4), storing nothing; after every row the
 * gateway still lists its streams and takes a valid publish. Nothing may answer 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, detailPaths, expectError, type Client, type HttpRequest } from "../support/http.js";

const CREATED = "demo.orders.v1.OrderCreated";
const SHIPPED = "demo.orders.v1.OrderShipped";
const CANCELLED = "demo.orders.v1.OrderCancelled";
const SAMPLE = "demo.metrics.v1.MetricSample";
const JSON_CT = { "content-type": "application/json" };
const PROTOBUF_CT = { "content-type": "application/x-protobuf" };
const MiB = 1024 * 1024;

interface StreamInfo {
  first_offset: number;
  last_offset: number;
}
interface Ctx {
  orders: StreamInfo;
}

interface Row {
  name: string;
  request: HttpRequest | ((ctx: Ctx) => HttpRequest);
  status: number;
  code: string;
  /** A path that must be among error.details[].path. */
  detailsPath?: string | RegExp;
  /** The error message must name the stream's current first_offset and last_offset. */
  messageHasOffsets?: boolean;
}

// ---- request builders ----------------------------------------------------------------------

const publish = (json: unknown, headers: Record<string, string> = {}, stream = "orders"): HttpRequest => ({
  method: "POST",
  path: `/v1/streams/${stream}/events`,
  json,
  headers,
});
const publishRaw = (body: string | Uint8Array, headers: Record<string, string>, stream = "orders"): HttpRequest => ({
  method: "POST",
  path: `/v1/streams/${stream}/events`,
  body,
  headers,
});
const batch = (json: unknown, stream = "orders"): HttpRequest => ({ method: "POST", path: `/v1/streams/${stream}/events:batch`, json });
const batchRaw = (body: string, headers: Record<string, string>, stream = "orders"): HttpRequest => ({
  method: "POST",
  path: `/v1/streams/${stream}/events:batch`,
  body,
  headers,
});
const get = (path: string, headers: Record<string, string> = {}): HttpRequest => ({ method: "GET", path, headers });

const created = (data: Record<string, unknown>) => ({ type: CREATED, data: { orderId: "ord-1", ...data } });
const goodOrder = (i: number) => ({ type: SHIPPED, data: { orderId: `ord-${i}`, carrier: "DHL" } });
const goodMetric = (i: number) => ({ data: { name: `m${i}`, value: i } });
const shippedBytes = () => OrderShipped.encode({ orderId: "ord-pb", carrier: "UPS", trackingNumber: "" }).finish();

// ---- the table -------------------------------------------------------------------------------

const publishRows: Row[] = [
  // Not an event object at all.
  { name: "publish: malformed JSON", request: publishRaw('{"type": "demo.orders.v1.OrderShipped", "data": {', JSON_CT), status: 400, code: "invalid_argument" },
  { name: "publish: empty JSON body", request: publishRaw("", JSON_CT), status: 400, code: "invalid_argument" },
  { name: "publish: JSON array", request: publish([goodOrder(1)]), status: 400, code: "invalid_argument" },
  { name: "publish: JSON string", request: publish("hello"), status: 400, code: "invalid_argument" },
  { name: "publish: JSON number", request: publish(42), status: 400, code: "invalid_argument" },
  { name: "publish: JSON null", request: publish(null), status: 400, code: "invalid_argument" },
  { name: "publish: missing data", request: publish({ type: SHIPPED }), status: 400, code: "invalid_argument" },
  { name: "publish: data is a string", request: publish({ type: SHIPPED, data: "ord-1" }), status: 400, code: "invalid_argument", detailsPath: "data" },
  { name: "publish: data is an array", request: publish({ type: SHIPPED, data: [{ orderId: "o" }] }), status: 400, code: "invalid_argument", detailsPath: "data" },
  { name: "publish: data is a number", request: publish({ type: SHIPPED, data: 5 }), status: 400, code: "invalid_argument", detailsPath: "data" },

  // Fields of the wrong type or out of range.
  { name: "field: orderId is a number", request: publish(created({ orderId: 5 })), status: 400, code: "invalid_argument", detailsPath: "data.orderId" },
  { name: "field: orderId is a boolean", request: publish(created({ orderId: true })), status: 400, code: "invalid_argument", detailsPath: "data.orderId" },
  { name: "field: orderId is an object", request: publish(created({ orderId: { a: 1 } })), status: 400, code: "invalid_argument", detailsPath: "data.orderId" },
  { name: 'field: totalCents "abc"', request: publish(created({ totalCents: "abc" })), status: 400, code: "invalid_argument", detailsPath: "data.totalCents" },
  { name: "field: totalCents 1.5", request: publish(created({ totalCents: 1.5 })), status: 400, code: "invalid_argument", detailsPath: "data.totalCents" },
  { name: 'field: totalCents "1.5"', request: publish(created({ totalCents: "1.5" })), status: 400, code: "invalid_argument", detailsPath: "data.totalCents" },
  { name: "field: totalCents above int64 max", request: publish(created({ totalCents: "9223372036854775808" })), status: 400, code: "invalid_argument", detailsPath: "data.totalCents" },
  { name: "field: totalCents below int64 min", request: publish(created({ totalCents: "-9223372036854775809" })), status: 400, code: "invalid_argument", detailsPath: "data.totalCents" },
  { name: "field: totalCents is an array", request: publish(created({ totalCents: ["1"] })), status: 400, code: "invalid_argument", detailsPath: "data.totalCents" },
  { name: 'field: items "x"', request: publish(created({ items: "x" })), status: 400, code: "invalid_argument", detailsPath: "data.items" },
  { name: "field: items[0] is a number", request: publish(created({ items: [5] })), status: 400, code: "invalid_argument", detailsPath: "data.items[0]" },
  { name: "field: items[0].quantity -1 (uint32)", request: publish(created({ items: [{ sku: "s", quantity: -1 }] })), status: 400, code: "invalid_argument", detailsPath: "data.items[0].quantity" },
  { name: "field: items[0].quantity above uint32 max", request: publish(created({ items: [{ sku: "s", quantity: 4294967296 }] })), status: 400, code: "invalid_argument", detailsPath: "data.items[0].quantity" },
  { name: "field: items[0].quantity 1.5", request: publish(created({ items: [{ sku: "s", quantity: 1.5 }] })), status: 400, code: "invalid_argument", detailsPath: "data.items[0].quantity" },
  { name: 'field: items[1].unitPriceCents "x"', request: publish(created({ items: [{ sku: "a" }, { sku: "b", unitPriceCents: "x" }] })), status: 400, code: "invalid_argument", detailsPath: "data.items[1].unitPriceCents" },
  { name: 'field: reason "NOT_A_REASON"', request: publish({ type: CANCELLED, data: { orderId: "o", reason: "NOT_A_REASON" } }), status: 400, code: "invalid_argument", detailsPath: "data.reason" },
  { name: "field: reason is an object", request: publish({ type: CANCELLED, data: { orderId: "o", reason: {} } }), status: 400, code: "invalid_argument", detailsPath: "data.reason" },
  { name: 'field: createdAt "yesterday"', request: publish(created({ createdAt: "yesterday" })), status: 400, code: "invalid_argument", detailsPath: "data.createdAt" },
  { name: "field: createdAt month 13", request: publish(created({ createdAt: "2026-13-01T00:00:00Z" })), status: 400, code: "invalid_argument", detailsPath: "data.createdAt" },
  { name: "field: createdAt on February 30th", request: publish(created({ createdAt: "2026-02-30T00:00:00Z" })), status: 400, code: "invalid_argument", detailsPath: "data.createdAt" },
  { name: "field: createdAt at 24:00", request: publish(created({ createdAt: "2026-03-01T24:00:00Z" })), status: 400, code: "invalid_argument", detailsPath: "data.createdAt" },
  { name: "field: createdAt is a number", request: publish(created({ createdAt: 1700000000 })), status: 400, code: "invalid_argument", detailsPath: "data.createdAt" },
  { name: 'field: metrics value "abc"', request: publish({ type: SAMPLE, data: { name: "m", value: "abc" } }, {}, "metrics"), status: 400, code: "invalid_argument", detailsPath: "data.value" },
  { name: 'field: metrics labels "x"', request: publish({ type: SAMPLE, data: { name: "m", labels: "x" } }, {}, "metrics"), status: 400, code: "invalid_argument", detailsPath: "data.labels" },
  { name: "field: metrics label value is a number", request: publish({ type: SAMPLE, data: { name: "m", labels: { a: 5 } } }, {}, "metrics"), status: 400, code: "invalid_argument", detailsPath: /^data\.labels/ },

  // Unknown fields.
  { name: "unknown field in data", request: publish(created({ bogusField: 1 })), status: 400, code: "invalid_argument", detailsPath: "data.bogusField" },
  { name: "unknown field in data.items[0]", request: publish(created({ items: [{ sku: "s", bogusField: "x" }] })), status: 400, code: "invalid_argument", detailsPath: "data.items[0].bogusField" },
  { name: "unknown field in data.items[2]", request: publish(created({ items: [{ sku: "a" }, { sku: "b" }, { sku: "c", colour: "red" }] })), status: 400, code: "invalid_argument", detailsPath: "data.items[2].colour" },
  { name: "unknown envelope field (colour)", request: publish({ ...goodOrder(1), colour: "red" }), status: 400, code: "invalid_argument" },

  // Streams and types.
  { name: "unknown stream", request: publish(goodOrder(1), {}, "nope"), status: 404, code: "not_found" },
  { name: "unknown type in a known stream", request: publish({ type: "demo.orders.v1.OrderTeleported", data: { orderId: "o" } }), status: 400, code: "invalid_argument" },
  { name: "type of another stream", request: publish({ type: SAMPLE, data: { name: "m" } }), status: 400, code: "invalid_argument" },
  { name: "a message that is not an event (LineItem)", request: publish({ type: "demo.orders.v1.LineItem", data: { sku: "s" } }), status: 400, code: "invalid_argument" },
  { name: "type omitted on orders (3 types)", request: publish({ data: { orderId: "o" } }), status: 400, code: "invalid_argument" },
  { name: "type is a number", request: publish({ type: 5, data: { orderId: "o" } }), status: 400, code: "invalid_argument" },
  { name: "type is empty", request: publish({ type: "", data: { orderId: "o" } }), status: 400, code: "invalid_argument" },

  // Ids and keys.
  { name: "id with a space", request: publish({ ...goodOrder(1), id: "has space" }), status: 400, code: "invalid_argument" },
  { name: "id with a dot", request: publish({ ...goodOrder(1), id: "a.b" }), status: 400, code: "invalid_argument" },
  { name: "id of 129 characters", request: publish({ ...goodOrder(1), id: "x".repeat(129) }), status: 400, code: "invalid_argument" },
  { name: "id empty", request: publish({ ...goodOrder(1), id: "" }), status: 400, code: "invalid_argument" },
  { name: "id is a number", request: publish({ ...goodOrder(1), id: 5 }), status: 400, code: "invalid_argument" },
  { name: "Idempotency-Key with a space", request: publish(goodOrder(1), { "idempotency-key": "has space" }), status: 400, code: "invalid_argument" },
  { name: "Idempotency-Key of 129 characters", request: publish(goodOrder(1), { "idempotency-key": "k".repeat(129) }), status: 400, code: "invalid_argument" },
  { name: "key is a number", request: publish({ ...goodOrder(1), key: 5 }), status: 400, code: "invalid_argument" },
  { name: "key of 5000 characters", request: publish({ ...goodOrder(1), key: "k".repeat(5000) }), status: 400, code: "invalid_argument" },
  { name: "key field (orderId) of 5000 characters", request: publish({ type: SHIPPED, data: { orderId: "k".repeat(5000) } }), status: 400, code: "invalid_argument" },

  // Protobuf bodies.
  { name: "protobuf: garbage bytes (truncated field)", request: publishRaw(new Uint8Array([0x0a, 0x10, 0x61]), { ...PROTOBUF_CT, "streamgate-type": SHIPPED }), status: 400, code: "invalid_argument" },
  { name: "protobuf: garbage bytes (0xff...)", request: publishRaw(new Uint8Array(16).fill(0xff), { ...PROTOBUF_CT, "streamgate-type": CREATED }), status: 400, code: "invalid_argument" },
  { name: "protobuf: missing Streamgate-Type on orders", request: publishRaw(shippedBytes(), PROTOBUF_CT), status: 400, code: "invalid_argument" },
  { name: "protobuf: unknown Streamgate-Type", request: publishRaw(shippedBytes(), { ...PROTOBUF_CT, "streamgate-type": "demo.orders.v1.Nope" }), status: 400, code: "invalid_argument" },
  { name: "protobuf: Streamgate-Type of another stream", request: publishRaw(shippedBytes(), { ...PROTOBUF_CT, "streamgate-type": SAMPLE }), status: 400, code: "invalid_argument" },
  { name: "protobuf: bad Idempotency-Key", request: publishRaw(shippedBytes(), { ...PROTOBUF_CT, "streamgate-type": SHIPPED, "idempotency-key": "no/slashes" }), status: 400, code: "invalid_argument" },
  { name: "protobuf: unknown stream", request: publishRaw(shippedBytes(), { ...PROTOBUF_CT, "streamgate-type": SHIPPED }, "nope"), status: 404, code: "not_found" },

  // Size and media type.
  { name: "JSON body of 2 MiB", request: publishRaw(JSON.stringify({ type: CANCELLED, data: { orderId: "o", note: "n".repeat(2 * MiB) } }), JSON_CT), status: 413, code: "payload_too_large" },
  { name: "protobuf body of 2 MiB", request: publishRaw(new Uint8Array(2 * MiB), { ...PROTOBUF_CT, "streamgate-type": SHIPPED }), status: 413, code: "payload_too_large" },
  { name: "Content-Type text/plain", request: publishRaw(JSON.stringify(goodOrder(1)), { "content-type": "text/plain" }), status: 415, code: "unsupported_media_type" },
  { name: "Content-Type application/xml", request: publishRaw("<event/>", { "content-type": "application/xml" }), status: 415, code: "unsupported_media_type" },
];

const batchRows: Row[] = [
  { name: "batch: empty", request: batch({ events: [] }), status: 400, code: "invalid_argument" },
  { name: "batch: 1001 events", request: batch({ events: Array.from({ length: 1001 }, (_, i) => goodMetric(i)) }, "metrics"), status: 400, code: "invalid_argument" },
  { name: "batch: events[2].data.orderId wrong type", request: batch({ events: [goodOrder(0), goodOrder(1), created({ orderId: 5 }), goodOrder(3)] }), status: 400, code: "invalid_argument", detailsPath: "events[2].data.orderId" },
  { name: "batch: unknown field in events[1].data.items[0]", request: batch({ events: [goodOrder(0), created({ items: [{ sku: "s", bogusField: 1 }] })] }), status: 400, code: "invalid_argument", detailsPath: "events[1].data.items[0].bogusField" },
  { name: "batch: events[3].data is a string", request: batch({ events: [goodOrder(0), goodOrder(1), goodOrder(2), { type: SHIPPED, data: "x" }] }), status: 400, code: "invalid_argument", detailsPath: "events[3].data" },
  { name: "batch: last of 1000 events bad", request: batch({ events: [...Array.from({ length: 999 }, (_, i) => goodMetric(i)), { data: { name: "m", value: "abc" } }] }, "metrics"), status: 400, code: "invalid_argument", detailsPath: "events[999].data.value" },
  { name: "batch: unknown type in events[0]", request: batch({ events: [{ type: "demo.orders.v1.Nope", data: {} }, goodOrder(1)] }), status: 400, code: "invalid_argument" },
  { name: "batch: type omitted in events[1] on orders", request: batch({ events: [goodOrder(0), { data: { orderId: "o" } }] }), status: 400, code: "invalid_argument" },
  { name: "batch: bad id in events[1]", request: batch({ events: [goodOrder(0), { ...goodOrder(1), id: "bad id" }] }), status: 400, code: "invalid_argument" },
  { name: "batch: events[2] has a key of 5000 characters", request: batch({ events: [goodOrder(0), goodOrder(1), { ...goodOrder(2), key: "k".repeat(5000) }] }), status: 400, code: "invalid_argument" },
  { name: "batch: events[2] has an orderId (key field) of 5000 characters", request: batch({ events: [goodOrder(0), goodOrder(1), { type: SHIPPED, data: { orderId: "k".repeat(5000) } }] }), status: 400, code: "invalid_argument" },
  { name: "batch: events[1] has an id with a dot", request: batch({ events: [goodOrder(0), { ...goodOrder(1), id: "a.b" }] }), status: 400, code: "invalid_argument" },
  { name: "batch: unknown envelope field in events[0]", request: batch({ events: [{ ...goodOrder(0), colour: "red" }] }), status: 400, code: "invalid_argument" },
  { name: "batch: events[0] is null", request: batch({ events: [null, goodOrder(1)] }), status: 400, code: "invalid_argument" },
  { name: 'batch: events is "x"', request: batch({ events: "x" }), status: 400, code: "invalid_argument" },
  { name: "batch: events missing", request: batch({}), status: 400, code: "invalid_argument" },
  { name: "batch: a bare array", request: batch([goodOrder(0)]), status: 400, code: "invalid_argument" },
  { name: "batch: unknown top-level field", request: batch({ events: [goodOrder(0)], colour: "red" }), status: 400, code: "invalid_argument" },
  { name: "batch: malformed JSON", request: batchRaw('{"events": [', JSON_CT), status: 400, code: "invalid_argument" },
  { name: "batch: unknown stream", request: batch({ events: [goodOrder(0)] }, "nope"), status: 404, code: "not_found" },
  { name: "batch: body of 2 MiB", request: batchRaw(JSON.stringify({ events: [{ type: CANCELLED, data: { orderId: "o", note: "n".repeat(2 * MiB) } }] }), JSON_CT), status: 413, code: "payload_too_large" },
  { name: "batch: Content-Type application/x-protobuf (batches are JSON)", request: { method: "POST", path: "/v1/streams/orders/events:batch", body: shippedBytes(), headers: { ...PROTOBUF_CT, "streamgate-type": SHIPPED } }, status: 415, code: "unsupported_media_type" },
  { name: "batch: Content-Type text/plain", request: batchRaw(JSON.stringify({ events: [goodOrder(0)] }), { "content-type": "text/plain" }), status: 415, code: "unsupported_media_type" },
];

function readRows(kind: "poll" | "sse"): Row[] {
  const base = `/v1/streams/orders/${kind}`;
  // A poll that wrongly accepted its parameters should still answer at once.
  const q = (query: string) => get(kind === "poll" ? `${base}?wait=0&${query}` : `${base}?${query}`, kind === "sse" ? { accept: "text/event-stream" } : {});
  const bad = (name: string, query: string): Row => ({ name: `${kind}: ${name}`, request: q(query), status: 400, code: "invalid_argument" });
  const rows: Row[] = [
    bad("from=abc", "from=abc"),
    bad("from=0", "from=0"),
    bad("from=-1", "from=-1"),
    bad("from=1.5", "from=1.5"),
    bad("from=5abc", "from=5abc"),
    bad("from=0x10 (hex)", "from=0x10"),
    bad("from=2^53 (above 2^53-1)", "from=9007199254740992"),
    bad("last=0", "last=0"),
    bad("last=10001", "last=10001"),
    bad("last=-5", "last=-5"),
    bad("last=abc", "last=abc"),
    bad("last=5abc", "last=5abc"),
    bad("since=notatime", "since=notatime"),
    bad("since in month 13", "since=2026-13-01T00:00:00Z"),
    bad("from and last", "from=1&last=5"),
    bad("from=first and since", "from=first&since=2020-01-01T00:00:00Z"),
    bad("last and since", "last=3&since=2020-01-01T00:00:00Z"),
    bad("from=now and last", "from=now&last=1"),
    {
      name: `${kind}: from far beyond last_offset + 1`,
      request: q("from=1000000"),
      status: 400,
      code: "invalid_argument",
      messageHasOffsets: true,
    },
    {
      name: `${kind}: from = last_offset + 2`,
      request: (ctx) => q(`from=${ctx.orders.last_offset + 2}`),
      status: 400,
      code: "invalid_argument",
      messageHasOffsets: true,
    },
    {
      name: `${kind}: unknown stream`,
      request: get(`/v1/streams/nope/${kind}?from=first${kind === "poll" ? "&wait=0" : ""}`, kind === "sse" ? { accept: "text/event-stream" } : {}),
      status: 404,
      code: "not_found",
    },
  ];
  if (kind === "poll") {
    rows.push(
      bad("max=0", "from=first&max=0"),
      bad("max=1001", "from=first&max=1001"),
      bad("max=abc", "from=first&max=abc"),
      { name: "poll: wait=61", request: get(`${base}?from=first&wait=61`), status: 400, code: "invalid_argument" },
      { name: "poll: wait=-1", request: get(`${base}?from=first&wait=-1`), status: 400, code: "invalid_argument" },
      { name: "poll: wait=abc", request: get(`${base}?from=first&wait=abc`), status: 400, code: "invalid_argument" },
    );
  } else {
    rows.push(bad("lastEventId=abc", "lastEventId=abc"));
  }
  return rows;
}

const rows: Row[] = [...publishRows, ...batchRows, ...readRows("poll"), ...readRows("sse")];

// ---- the test ----------------------------------------------------------------------------

let gw: TestGateway;
let api: Client;
let goodPublishes = 0;

beforeAll(async () => {
  gw = await startTestGateway();
  api = client(gw.url);
  // A few events, so that offsets in messages are not all 0 or 1.
  for (let i = 0; i < 3; i++) await expectGoodPublish();
});
afterAll(async () => gw?.close());

async function streamInfo(stream: string): Promise<StreamInfo> {
  const res = await api.get(`/v1/streams/${stream}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function expectGoodPublish(): Promise<void> {
  const res = await api.postJson("/v1/streams/orders/events", { type: SHIPPED, data: { orderId: `ord-good-${++goodPublishes}` } });
  expect(res.status, `a valid publish after a bad request: ${res.text}`).toBe(201);
  expect(res.body).toMatchObject({ offset: expect.any(Number), id: expect.any(String), duplicate: false });
}

describe("bad input", () => {
  it.each(rows)("$name → $status $code", async (row) => {
    const before = { orders: await streamInfo("orders"), metrics: await streamInfo("metrics") };
    const request = typeof row.request === "function" ? row.request({ orders: before.orders }) : row.request;

    const res = await api.send(request);
    const what = `${request.method ?? "GET"} ${request.path.slice(0, 120)}`;
    expect(res.status, `${what} must not fail with a 5xx: ${res.text.slice(0, 300)}`).toBeLessThan(500);
    expectError(res, row.status, row.code, what);

    if (row.detailsPath !== undefined) {
      const paths = detailPaths(res);
      if (typeof row.detailsPath === "string") expect(paths, `details of ${what}: ${res.text.slice(0, 300)}`).toContain(row.detailsPath);
      else expect(paths.some((p) => (row.detailsPath as RegExp).test(p)), `details ${JSON.stringify(paths)} of ${what}`).toBe(true);
    }

    // Nothing was stored by a refused request.
    const after = { orders: await streamInfo("orders"), metrics: await streamInfo("metrics") };
    expect(after.orders.last_offset, `orders last_offset after ${what}`).toBe(before.orders.last_offset);
    expect(after.metrics.last_offset, `metrics last_offset after ${what}`).toBe(before.metrics.last_offset);

    if (row.messageHasOffsets) {
      const message: string = res.body.error.message;
      for (const n of [after.orders.first_offset, after.orders.last_offset]) {
        expect(message, `the message must name first_offset ${after.orders.first_offset} and last_offset ${after.orders.last_offset}`).toMatch(
          new RegExp(`(^|\\D)${n}(\\D|$)`),
        );
      }
    }

    // The gateway still serves.
    const list = await api.get("/v1/streams");
    expect(list.status, list.text).toBe(200);
    expect(list.body.streams.map((s: { name: string }) => s.name).sort()).toEqual(["metrics", "orders"]);
    await expectGoodPublish();
  });
});
