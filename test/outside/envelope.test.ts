// PROTOCOL.md section 2: one envelope, the same over SSE, long poll, WebSocket JSON and webhooks.
import { describe, expect, it } from "vitest";
import {
  EVENT_ID,
  RFC3339_UTC,
  field,
  header,
  nextData,
  openJsonWs,
  openSse,
  poll,
  postJson,
  publish,
  publishRaw,
  uniqueKey,
  wsUrl,
  type JsonObject,
  useReceiver,
  useStack,
} from "./support.js";

const stack = useStack();
const receiver = useReceiver();

/** Reads the event at `offset` of `stream` over all four protocols and returns the four envelopes. */
async function readEverywhere(stream: string, offset: number): Promise<Record<string, JsonObject>> {
  const sse = await openSse(`${stack().base}/v1/streams/${stream}/sse?from=${offset}`);
  const sseBlock = await nextData(sse, "SSE event");
  sse.close();

  const polled = await poll(stack().base, stream, `from=${offset}&max=1&wait=0`);
  expect(polled.status).toBe(200);

  const ws = await openJsonWs(wsUrl(stack().base, "/v1/ws"), ["streamgate.v1.json"]);
  ws.send({ op: "subscribe", sub: "s", stream, from: offset });
  expect(await ws.frames.take("subscribed")).toMatchObject({ op: "subscribed", sub: "s", stream });
  const eventFrame = await ws.frames.take("event frame");
  await ws.close();

  const path = `/hook-${offset}-${stream}`;
  const created = await postJson(`${stack().base}/v1/webhooks`, { url: receiver().url(path), stream, from: offset });
  expect(created.status).toBe(201);
  const delivery = await receiver().deliveries(path).take("webhook delivery");
  const deleted = await fetch(`${stack().base}/v1/webhooks/${String(created.json.id)}`, { method: "DELETE" });
  expect(deleted.status).toBeLessThan(300);

  expect(field(sseBlock, "id")).toBe(String(offset));
  expect(Object.keys(eventFrame).sort()).toEqual(["event", "op", "sub"]);
  expect(eventFrame).toMatchObject({ op: "event", sub: "s" });
  expect(header(delivery, "content-type")).toMatch(/^application\/json/);
  return {
    sse: JSON.parse(field(sseBlock, "data")!) as JsonObject,
    poll: (polled.json.events as JsonObject[])[0]!,
    ws: eventFrame.event as JsonObject,
    webhook: JSON.parse(delivery.body) as JsonObject,
  };
}

function expectSameEverywhere(envelopes: Record<string, JsonObject>, expected: JsonObject): void {
  for (const [protocol, envelope] of Object.entries(envelopes)) {
    expect({ protocol, envelope }).toEqual({ protocol, envelope: expected });
  }
}

describe("the event envelope (section 2)", () => {
  it("OrderCreated with items, a Timestamp and int64 as strings is the same object everywhere", async () => {
    const orderId = uniqueKey("ord");
    const { offset } = await publish(
      stack().base,
      "orders",
      {
        type: "demo.orders.v1.OrderCreated",
        data: {
          orderId,
          customerId: "cust-1",
          items: [
            { sku: "sku-1", quantity: 2, unitPriceCents: 1250 },
            { sku: "sku-2", quantity: 1, unitPriceCents: "9007199254740993" },
          ],
          totalCents: "9007199254743493",
          currency: "EUR",
          createdAt: "2026-11-22T10:00:00.123Z",
        },
      },
      { "idempotency-key": `${orderId}-created` },
    );
    const envelopes = await readEverywhere("orders", offset);
    const time = envelopes.poll!.time;
    expect(time).toMatch(RFC3339_UTC);
    expect(Math.abs(Date.parse(String(time)) - Date.now())).toBeLessThan(60_000);
    expect(Object.keys(envelopes.poll!)).toEqual(["stream", "offset", "id", "type", "key", "time", "data"]);
    expectSameEverywhere(envelopes, {
      stream: "orders",
      offset,
      id: `${orderId}-created`,
      type: "demo.orders.v1.OrderCreated",
      key: orderId,
      time: time!,
      data: {
        orderId,
        customerId: "cust-1",
        items: [
          { sku: "sku-1", quantity: 2, unitPriceCents: "1250" },
          { sku: "sku-2", quantity: 1, unitPriceCents: "9007199254740993" },
        ],
        totalCents: "9007199254743493",
        currency: "EUR",
        createdAt: "2026-11-22T10:00:00.123Z",
      },
    });
  });

  it("MetricSample with labels and a Timestamp is the same object everywhere", async () => {
    const name = uniqueKey("cpu");
    const { offset, id } = await publish(stack().base, "metrics", {
      type: "demo.metrics.v1.MetricSample",
      data: { name, value: 0.25, labels: { host: "web-1", region: "eu" }, observedAt: "2026-11-22T10:00:01Z" },
    });
    expect(id).toMatch(EVENT_ID);
    const envelopes = await readEverywhere("metrics", offset);
    expectSameEverywhere(envelopes, {
      stream: "metrics",
      offset,
      id,
      type: "demo.metrics.v1.MetricSample",
      key: name,
      time: envelopes.poll!.time!,
      data: { name, value: 0.25, labels: { host: "web-1", region: "eu" }, observedAt: "2026-11-22T10:00:01Z" },
    });
  });

  it("an enum is written by name and default values are omitted", async () => {
    const orderId = uniqueKey("ord");
    const { offset, id } = await publish(stack().base, "orders", {
      type: "demo.orders.v1.OrderCancelled",
      data: { orderId, reason: "REASON_OUT_OF_STOCK", note: "" },
    });
    const envelopes = await readEverywhere("orders", offset);
    expectSameEverywhere(envelopes, {
      stream: "orders",
      offset,
      id,
      type: "demo.orders.v1.OrderCancelled",
      key: orderId,
      time: envelopes.poll!.time!,
      data: { orderId, reason: "REASON_OUT_OF_STOCK" },
    });
  });

  it("an event the gateway cannot decode is delivered with data null and dataBase64, never dropped", async () => {
    const payload = new Uint8Array([0x0a, 0xff, 0xff, 0x01]);
    // Stored behind the gateway's back, without whatever headers the gateway itself would add.
    for (const subject of ["streamgate.orders.demo:orders:v1:OrderShipped.raw-bad-bytes", "streamgate.orders.demo:orders:v1:OrderVanished.raw"]) {
      const offset = await publishRaw(stack().nats.url, subject, payload);
      const envelopes = await readEverywhere("orders", offset);
      expect(envelopes.poll).toMatchObject({
        stream: "orders",
        offset,
        id: expect.stringMatching(EVENT_ID),
        time: expect.stringMatching(RFC3339_UTC),
        data: null,
        dataBase64: Buffer.from(payload).toString("base64"),
      });
      expectSameEverywhere(envelopes, envelopes.poll!);
    }
  });

  it("an event without a key has no key field at all", async () => {
    const { offset, id } = await publish(stack().base, "metrics", { data: { value: 3 } });
    const envelopes = await readEverywhere("metrics", offset);
    for (const envelope of Object.values(envelopes)) expect(envelope).not.toHaveProperty("key");
    expectSameEverywhere(envelopes, {
      stream: "metrics",
      offset,
      id,
      type: "demo.metrics.v1.MetricSample",
      time: envelopes.poll!.time!,
      data: { value: 3 },
    });
  });
});
