/**
 * PROTOCOL.md sections 2 and 5.1 over the wire: SSE response headers, the retry line, the
 * id/data frames, keep-alive comments, CORS, and the JSON envelope of every example event
 * type (canonical proto3 JSON), checked against the poll answer for the same offsets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "../../generated/streams/index.js";
import { OrderCancelled_Reason } from "../../generated/ts/demo/orders/v1/orders.js";
import { storeEvent } from "../../src/backbone/publish.js";
import { createProducer } from "../../src/typed/producer.js";
import { RFC3339_UTC, T, tag } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { SseConnection } from "../support/sse-frames.js";
import {
  openSse,
  poll,
  publish,
  publishShipped,
  sseUrl,
  streamInfo,
  type Envelope,
  type OrderSpec,
} from "./harness.js";

const ALLOWED = ["https://app.example", "https://admin.example"];

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ STREAMGATE_SSE_KEEPALIVE_MS: "300", STREAMGATE_CORS_ORIGINS: ALLOWED.join(",") });
  await publishShipped(gw, 2);
});
afterAll(async () => gw?.close());

describe("the response", () => {
  it("has the event-stream headers", async () => {
    const sse = await openSse(gw, { from: "now" });
    try {
      expect(sse.status).toBe(200);
      expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream\b/);
      expect(sse.headers.get("cache-control")).toMatch(/\bno-cache\b/);
      expect(sse.headers.get("x-accel-buffering")).toBe("no");
      expect(sse.headers.get("content-length")).toBeNull();
    } finally {
      await sse.close();
    }
  });

  it("starts with a retry: <ms> line", async () => {
    const sse = await openSse(gw, { from: "first" });
    try {
      await sse.until(() => sse.raw.length > 0 && sse.items.length > 0, "the first frame", 5_000);
      expect(sse.raw).toMatch(/^retry: \d+\r?\n/);
      expect(sse.items[0]).toMatchObject({ kind: "message", fields: [["retry", expect.stringMatching(/^\d+$/)]] });
      expect(Number(sse.raw.match(/^retry: (\d+)/)![1])).toBeGreaterThan(0);
    } finally {
      await sse.close();
    }
  });

  it("writes each event as `id: <offset>` and one `data:` line, with no `event:` field", async () => {
    const p = tag("frame");
    const offsets = await publish(gw, [
      { type: T.created, data: { orderId: `${p}-1`, totalCents: 5n, currency: "EUR" } },
      { type: T.shipped, data: { orderId: `${p}-1`, carrier: "line1\nline2" } },
      { type: T.cancelled, data: { orderId: `${p}-1`, note: "ünïcödé \u2028 \r\n" } },
    ]);
    const sse = await openSse(gw, { from: offsets[0]! });
    try {
      await sse.waitForEvents(3);
      const eventMessages = sse.messages().filter((m) => m.retry === undefined);
      expect(eventMessages).toHaveLength(3);
      eventMessages.forEach((m, i) => {
        expect(m.fields.map(([name]) => name).sort()).toEqual(["data", "id"]);
        expect(m.id).toBe(String(offsets[i]));
        expect((JSON.parse(m.data!) as Envelope).offset).toBe(offsets[i]);
      });
      expect(sse.raw).not.toMatch(/^event:/m);
      // Strings with newlines stay one data line (JSON escapes them).
      expect((JSON.parse(eventMessages[1]!.data!) as Envelope).data).toEqual({ orderId: `${p}-1`, carrier: "line1\nline2" });
      expect((JSON.parse(eventMessages[2]!.data!) as Envelope).data).toEqual({ orderId: `${p}-1`, note: "ünïcödé \u2028 \r\n" });
    } finally {
      await sse.close();
    }
  });

  it("sends a `: keep-alive` comment while the stream is idle (STREAMGATE_SSE_KEEPALIVE_MS=300)", async () => {
    const sse = await openSse(gw, { from: "now" }, { stream: "metrics" });
    const opened = Date.now();
    try {
      const keepAlives = () => sse.items.flatMap((item, i) => (item.kind === "comment" && item.text === "keep-alive" ? [sse.arrivals[i]!] : []));
      await sse.until(() => keepAlives().length >= 3, "three keep-alive comments", 5_000);
      const times = keepAlives();
      expect(times[0]! - opened).toBeLessThan(1_500);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThan(1_000);
      expect(sse.raw).toMatch(/^: keep-alive\r?\n/m);
      expect(sse.envelopes()).toEqual([]);
    } finally {
      await sse.close();
    }
  });
});

describe("CORS (STREAMGATE_CORS_ORIGINS)", () => {
  it("allows a listed origin", async () => {
    for (const origin of ALLOWED) {
      const sse = await SseConnection.open(sseUrl(gw, { from: "now" }), { headers: { origin } });
      try {
        expect(sse.status).toBe(200);
        expect(sse.headers.get("access-control-allow-origin")).toBe(origin);
      } finally {
        await sse.close();
      }
    }
  });

  it("does not allow an origin that is not listed", async () => {
    const sse = await SseConnection.open(sseUrl(gw, { from: "now" }), { headers: { origin: "https://evil.example" } });
    try {
      const allowed = sse.headers.get("access-control-allow-origin");
      expect(allowed === null || allowed === "" || allowed === "null", `access-control-allow-origin: ${allowed}`).toBe(true);
    } finally {
      await sse.close();
    }
  });

  it("poll answers carry the header too, for listed origins only", async () => {
    const allowed = await fetch(`${gw.url}/v1/streams/orders/poll?wait=0`, { headers: { origin: ALLOWED[1]! } });
    await allowed.arrayBuffer();
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED[1]);
    const other = await fetch(`${gw.url}/v1/streams/orders/poll?wait=0`, { headers: { origin: "https://evil.example" } });
    await other.arrayBuffer();
    expect([null, "", "null"]).toContain(other.headers.get("access-control-allow-origin"));
  });

  it("answers the preflight of a cross-origin resume (Last-Event-ID header)", async () => {
    const res = await fetch(sseUrl(gw, {}), {
      method: "OPTIONS",
      headers: { origin: ALLOWED[0]!, "access-control-request-method": "GET", "access-control-request-headers": "last-event-id" },
    });
    await res.arrayBuffer();
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED[0]);
    expect((res.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toMatch(/last-event-id|\*/);
  });

  it("defaults to allowing every origin", async () => {
    const other = await startTestGateway();
    try {
      const sse = await SseConnection.open(sseUrl(other, { from: "now" }), { headers: { origin: "https://anywhere.example" } });
      try {
        expect(sse.status).toBe(200);
        expect(["*", "https://anywhere.example"]).toContain(sse.headers.get("access-control-allow-origin"));
      } finally {
        await sse.close();
      }
    } finally {
      await other.close();
    }
  });
});

describe("the envelope", () => {
  const p = tag("shape");
  const at = (nanos: number) => ({ seconds: 1_795_341_600n, nanos });
  const cases: { name: string; spec: OrderSpec; key?: string; data: unknown }[] = [
    {
      name: "OrderCreated: int64 as strings, repeated and nested messages, Timestamp with nanos",
      spec: {
        type: T.created,
        id: `${p}-created`,
        data: {
          orderId: `${p}-o1`,
          customerId: "cust-9",
          items: [
            { sku: "sku-1", quantity: 2, unitPriceCents: 500n },
            { sku: "sku-2", quantity: 1, unitPriceCents: 999n },
          ],
          totalCents: 1999n,
          currency: "EUR",
          createdAt: at(123_456_789),
        },
      },
      key: `${p}-o1`,
      data: {
        orderId: `${p}-o1`,
        customerId: "cust-9",
        items: [
          { sku: "sku-1", quantity: 2, unitPriceCents: "500" },
          { sku: "sku-2", quantity: 1, unitPriceCents: "999" },
        ],
        totalCents: "1999",
        currency: "EUR",
        createdAt: "2026-11-22T10:00:00.123456789Z",
      },
    },
    {
      name: "OrderCreated: whole-second Timestamp, int64 beyond 2^53 and negative, defaults omitted",
      spec: { type: T.created, id: `${p}-created-2`, data: { orderId: `${p}-o2`, totalCents: -9_007_199_254_740_993n, createdAt: at(0), items: [{ sku: "s" }] } },
      key: `${p}-o2`,
      data: { orderId: `${p}-o2`, totalCents: "-9007199254740993", createdAt: "2026-11-22T10:00:00Z", items: [{ sku: "s" }] },
    },
    {
      name: "OrderCreated: Timestamps with milli- and microsecond precision use 3 and 6 digits",
      spec: { type: T.created, id: `${p}-created-3`, data: { orderId: `${p}-o3`, createdAt: at(120_000_000) } },
      key: `${p}-o3`,
      data: { orderId: `${p}-o3`, createdAt: "2026-11-22T10:00:00.120Z" },
    },
    {
      name: "OrderCreated: microseconds",
      spec: { type: T.created, id: `${p}-created-4`, data: { orderId: `${p}-o4`, createdAt: at(123_456_000) } },
      key: `${p}-o4`,
      data: { orderId: `${p}-o4`, createdAt: "2026-11-22T10:00:00.123456Z" },
    },
    {
      name: "OrderShipped",
      spec: { type: T.shipped, id: `${p}-shipped`, data: { orderId: `${p}-o1`, carrier: "DHL", trackingNumber: "JD0001" } },
      key: `${p}-o1`,
      data: { orderId: `${p}-o1`, carrier: "DHL", trackingNumber: "JD0001" },
    },
    {
      name: "OrderCancelled: enums as names",
      spec: { type: T.cancelled, id: `${p}-cancelled`, data: { orderId: `${p}-o1`, reason: OrderCancelled_Reason.REASON_OUT_OF_STOCK, note: "sorry" } },
      key: `${p}-o1`,
      data: { orderId: `${p}-o1`, reason: "REASON_OUT_OF_STOCK", note: "sorry" },
    },
    {
      name: "OrderCancelled: the zero enum value and empty strings are omitted",
      spec: { type: T.cancelled, id: `${p}-cancelled-2`, data: { orderId: `${p}-o5`, reason: OrderCancelled_Reason.REASON_UNSPECIFIED, note: "" } },
      key: `${p}-o5`,
      data: { orderId: `${p}-o5` },
    },
    {
      name: "OrderShipped without a key: no key field at all, empty data object",
      spec: { type: T.shipped, id: `${p}-nokey`, data: {} },
      data: {},
    },
  ];

  let offsets: number[] = [];
  let sseEnvelopes: Envelope[] = [];
  let pollEnvelopes: Envelope[] = [];
  const publishedAt = { from: 0, to: 0 };

  beforeAll(async () => {
    publishedAt.from = Date.now() - 1000;
    offsets = await publish(gw, cases.map((c) => c.spec));
    publishedAt.to = Date.now() + 1000;
    const sse = await openSse(gw, { from: offsets[0]! });
    try {
      sseEnvelopes = (await sse.waitForEvents(cases.length)).slice(0, cases.length);
    } finally {
      await sse.close();
    }
    pollEnvelopes = (await poll(gw, { from: offsets[0]!, max: cases.length, wait: 0 })).body.events;
  });

  it.each(cases.map((c, i) => [c.name, i] as const))("%s", (_name, i) => {
    const c = cases[i]!;
    const envelope = sseEnvelopes[i]!;
    expect(envelope).toEqual({
      stream: "orders",
      offset: offsets[i],
      id: c.spec.id,
      type: c.spec.type,
      ...(c.key !== undefined && { key: c.key }),
      time: expect.stringMatching(RFC3339_UTC),
      data: c.data,
    });
    if (c.key === undefined) expect(Object.keys(envelope)).not.toContain("key");
    const time = Date.parse(envelope.time);
    expect(time).toBeGreaterThanOrEqual(publishedAt.from);
    expect(time).toBeLessThanOrEqual(publishedAt.to);
    // Every protocol delivers the same JSON object.
    expect(pollEnvelopes[i]).toEqual(envelope);
  });

  it("is in stored order, and times do not go backwards", () => {
    expect(sseEnvelopes.map((e) => e.offset)).toEqual(offsets);
    const times = sseEnvelopes.map((e) => Date.parse(e.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("MetricSample (metrics stream): doubles as numbers, maps as objects, key from name", async () => {
    const producer = createProducer(gw.gateway.session.backbone.js, metrics);
    const name = `${tag("cpu")}.load`;
    const a = await producer.publish(
      { type: T.metric, data: { name, value: 0.25, labels: { host: "h1", "zone x": "eu" }, observedAt: { seconds: 1_795_341_600n, nanos: 500_000_000 } } },
      { id: `${name.replace(".", "_")}-a` },
    );
    const b = await producer.publish({ type: T.metric, data: { name, value: 0 } }, { id: `${name.replace(".", "_")}-b` });
    const sse = await openSse(gw, { from: a.offset }, { stream: "metrics" });
    try {
      const [first, second] = await sse.waitForEvents(2);
      expect(first).toEqual({
        stream: "metrics",
        offset: a.offset,
        id: `${name.replace(".", "_")}-a`,
        type: T.metric,
        key: name,
        time: expect.stringMatching(RFC3339_UTC),
        data: { name, value: 0.25, labels: { host: "h1", "zone x": "eu" }, observedAt: "2026-11-22T10:00:00.500Z" },
      });
      expect(second).toMatchObject({ offset: b.offset, key: name, data: { name } });
      expect(Object.keys(second!.data as object)).toEqual(["name"]);
    } finally {
      await sse.close();
    }
  });

  it("an event the gateway cannot decode is delivered with data null and dataBase64", async () => {
    const js = gw.gateway.session.backbone.js;
    const bad = Uint8Array.from([0x0a, 0x05, 0x61]); // field 1, length 5, then 1 byte: truncated
    const unknownBytes = Uint8Array.from([0x0a, 0x02, 0x68, 0x69]);
    const p2 = tag("bad");
    const r1 = await storeEvent(js, { stream: "orders", type: T.created, key: `${p2}-1`, id: `${p2}-1`, data: bad });
    const r2 = await storeEvent(js, { stream: "orders", type: "demo.orders.v1.OrderRefunded", key: `${p2}-2`, id: `${p2}-2`, data: unknownBytes });
    const [after] = await publishShipped(gw, 1);
    const sse = await openSse(gw, { from: r1.offset });
    try {
      const events = await sse.waitForEvents(3);
      expect(events[0]).toEqual({
        stream: "orders",
        offset: r1.offset,
        id: `${p2}-1`,
        type: T.created,
        key: `${p2}-1`,
        time: expect.stringMatching(RFC3339_UTC),
        data: null,
        dataBase64: Buffer.from(bad).toString("base64"),
      });
      expect(events[1]).toEqual({
        stream: "orders",
        offset: r2.offset,
        id: `${p2}-2`,
        type: "demo.orders.v1.OrderRefunded",
        key: `${p2}-2`,
        time: expect.stringMatching(RFC3339_UTC),
        data: null,
        dataBase64: Buffer.from(unknownBytes).toString("base64"),
      });
      // Delivery goes on after them.
      expect(events[2]!.offset).toBe(after);
      const polled = await poll(gw, { from: r1.offset, max: 2, wait: 0 });
      expect(polled.body.events).toEqual(events.slice(0, 2));
    } finally {
      await sse.close();
    }
  });
});

describe("stream info agrees with what SSE delivers", () => {
  it("last_offset is the offset of the newest event delivered", async () => {
    const offsets = await publishShipped(gw, 2);
    const info = await streamInfo(gw);
    const sse = await openSse(gw, { last: 1 });
    try {
      const [event] = await sse.waitForEvents(1);
      expect(event!.offset).toBe(info.last_offset);
      expect(event!.offset).toBe(offsets[1]);
    } finally {
      await sse.close();
    }
  });
});

describe("when the gateway stops", () => {
  it("ends open SSE responses, so clients reconnect elsewhere, and stops promptly", async () => {
    const other = await startTestGateway();
    const sse = await openSse(other, { from: "now" });
    let closed = false;
    try {
      await sse.until(() => sse.items.length > 0, "the retry line", 5_000);
      const started = performance.now();
      await other.close();
      closed = true;
      expect(performance.now() - started).toBeLessThan(5_000);
      await sse.until(() => sse.ended, "the end of the response", 5_000);
      expect(sse.failure).toBeUndefined();
    } finally {
      await sse.close();
      if (!closed) await other.close();
    }
  });
});
