import { orders } from "../../generated/streams/orders.js";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { createProducer } from "../../src/typed/producer.js";

/**
 * Publishes `count` small OrderShipped events straight to the backbone, `window` at a time,
 * and answers their offsets in ascending order.
 */
export async function publishOrders(
  backbone: Backbone,
  count: number,
  options: { prefix?: string; window?: number; /** Pads each event's data to about this many bytes. */ padBytes?: number } = {},
): Promise<number[]> {
  const producer = createProducer(backbone.js, orders);
  const prefix = options.prefix ?? "o";
  const window = options.window ?? 200;
  const offsets: number[] = [];
  const pad = options.padBytes ? "x".repeat(options.padBytes) : "";
  for (let start = 0; start < count; start += window) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + window); i++) {
      batch.push(
        producer.publish(
          { type: "demo.orders.v1.OrderShipped", data: { orderId: `${prefix}-${i}`, carrier: "ups", trackingNumber: `1Z${i}${pad}` } },
          { id: `${prefix}-${i}` },
        ),
      );
    }
    for (const r of await Promise.all(batch)) offsets.push(r.offset);
  }
  return offsets.sort((a, b) => a - b);
}

/** A backbone connection for a test's own publishing. */
export function connectPublisher(natsUrl: string): Promise<Backbone> {
  return connectBackbone(natsUrl, "webhooks-durability-publisher");
}
