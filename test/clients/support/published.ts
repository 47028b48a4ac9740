import { orders } from "../../../generated/streams/index.js";
import type { Producer } from "../../../src/typed/producer.js";

/** An event a test published, with the envelope every protocol must deliver for it (but `time`). */
export interface PublishedEvent {
  offset: number;
  id: string;
  envelope: {
    stream: string;
    offset: number;
    id: string;
    type: string;
    key?: string;
    data: unknown;
  };
}

type OrdersProducer = Producer<typeof orders>;

/**
 * Publishes `count` OrderShipped events one after the other (so offsets follow the order of
 * the returned list), every few of them an OrderCreated instead, so the envelopes carry
 * int64-as-string, repeated and nested fields too.
 */
export async function publishOrders(producer: OrdersProducer, tag: string, count: number): Promise<PublishedEvent[]> {
  const out: PublishedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const orderId = `${tag}-${i}`;
    const id = `evt-${tag}-${i}`;
    if (i % 3 === 2) {
      const { offset } = await producer.publish(
        {
          type: "demo.orders.v1.OrderCreated",
          data: {
            orderId,
            customerId: `cust-${tag}`,
            items: [{ sku: "sku-1", quantity: 2, unitPriceCents: 500n }],
            totalCents: 1000n,
            currency: "EUR",
          },
        },
        { id },
      );
      out.push({
        offset,
        id,
        envelope: {
          stream: "orders",
          offset,
          id,
          type: "demo.orders.v1.OrderCreated",
          key: orderId,
          data: {
            orderId,
            customerId: `cust-${tag}`,
            items: [{ sku: "sku-1", quantity: 2, unitPriceCents: "500" }],
            totalCents: "1000",
            currency: "EUR",
          },
        },
      });
    } else {
      const { offset } = await producer.publish(
        { type: "demo.orders.v1.OrderShipped", data: { orderId, carrier: "ups", trackingNumber: `1Z-${tag}-${i}` } },
        { id },
      );
      out.push({
        offset,
        id,
        envelope: {
          stream: "orders",
          offset,
          id,
          type: "demo.orders.v1.OrderShipped",
          key: orderId,
          data: { orderId, carrier: "ups", trackingNumber: `1Z-${tag}-${i}` },
        },
      });
    }
  }
  return out;
}

/**
 * Problems with a delivered envelope compared to the published event (exactly its fields, and
 * `time` as RFC 3339 UTC); empty when it matches.
 */
export function envelopeProblems(actual: unknown, expected: PublishedEvent): string[] {
  const problems: string[] = [];
  if (typeof actual !== "object" || actual === null) return [`offset ${expected.offset}: envelope is not an object`];
  const a = actual as Record<string, unknown>;
  const rest = expected.envelope;
  const { time, ...actualRest } = a;
  if (typeof time !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(time) || Number.isNaN(Date.parse(time))) {
    problems.push(`offset ${expected.offset}: time ${JSON.stringify(time)} is not RFC 3339 UTC`);
  }
  if (JSON.stringify(sortKeys(actualRest)) !== JSON.stringify(sortKeys(rest))) {
    problems.push(`offset ${expected.offset}: got ${JSON.stringify(actualRest)}, expected ${JSON.stringify(rest)}`);
  }
  return problems;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
