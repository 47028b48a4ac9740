import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders, metrics, type OrdersEventInit } from "../../generated/streams/index.js";
import { OrderCancelled_Reason } from "../../generated/ts/demo/orders/v1/orders.js";
import { createProducer } from "../../src/typed/producer.js";
import { consume } from "../../src/typed/consumer.js";
import { startTestBackbone, type TestBackbone } from "../support/backbone.js";
import { take } from "../support/collect.js";

let backbone: TestBackbone;
beforeAll(async () => {
  backbone = await startTestBackbone();
});
afterAll(async () => backbone?.close());

describe("typed producer and consumer", () => {
  it("round-trips every example event type with its key", async () => {
    const orderEvents: OrdersEventInit[] = [
      {
        type: "demo.orders.v1.OrderCreated",
        data: {
          orderId: "ord-1",
          customerId: "cus-9",
          items: [{ sku: "sku-1", quantity: 2, unitPriceCents: 9_007_199_254_740_993n }],
          totalCents: -5n,
          currency: "EUR",
          createdAt: { seconds: 1_763_800_000n, nanos: 123_456_789 },
        },
      },
      { type: "demo.orders.v1.OrderShipped", data: { orderId: "ord-1", carrier: "dhl", trackingNumber: "TN ü 1" } },
      {
        type: "demo.orders.v1.OrderCancelled",
        data: { orderId: "ord/1.with spaces", reason: OrderCancelled_Reason.REASON_OUT_OF_STOCK, note: "" },
      },
    ];
    const ordersProducer = createProducer(backbone.js, orders);
    const first = (await ordersProducer.publish(orderEvents[0]!)).offset;
    for (const event of orderEvents.slice(1)) await ordersProducer.publish(event);

    const read = await take(consume(backbone, orders, { position: { from: first } }), 3);
    expect(read.map((e) => e.type)).toEqual(orderEvents.map((e) => e.type));
    expect(read.map((e) => e.key)).toEqual(["ord-1", "ord-1", "ord/1.with spaces"]);
    expect(read.map((e) => e.offset)).toEqual([first, first + 1, first + 2]);
    for (const [i, event] of read.entries()) {
      const codec = orders.events[event.type].codec;
      expect(event.data).toEqual(codec.fromPartial(orderEvents[i]!.data as never));
      expect(event.time).toBeInstanceOf(Date);
      expect(Math.abs(event.time.getTime() - Date.now())).toBeLessThan(60_000);
    }

    const metricsProducer = createProducer(backbone.js, metrics);
    const sample = {
      name: "cpu.load",
      value: 0.1 + 0.2,
      labels: { host: "a", "zone ü": "eu-1" },
      observedAt: { seconds: 1n, nanos: 1 },
    };
    const published = await metricsProducer.publish(
      { type: "demo.metrics.v1.MetricSample", data: sample },
      { id: "metric-1" },
    );
    const [metric] = await take(consume(backbone, metrics, { position: { from: published.offset } }), 1);
    expect(metric).toMatchObject({ type: "demo.metrics.v1.MetricSample", key: "cpu.load", id: "metric-1", data: sample });
  });

  it("stores an id once within the duplicate window and returns the first offset", async () => {
    const producer = createProducer(backbone.js, orders);
    const event: OrdersEventInit = { type: "demo.orders.v1.OrderShipped", data: { orderId: "dup-1" } };
    const a = await producer.publish(event, { id: "ship-dup-1" });
    const b = await producer.publish(event, { id: "ship-dup-1" });
    const c = await producer.publish(event, { id: "ship-dup-2" });
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ offset: a.offset, id: "ship-dup-1", duplicate: true });
    expect(c.offset).toBe(a.offset + 1);
  });

  it("refuses an id outside the protocol's pattern", async () => {
    const producer = createProducer(backbone.js, orders);
    await expect(
      producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: "x" } }, { id: "has space" }),
    ).rejects.toThrow(/event id must match/);
  });
});
