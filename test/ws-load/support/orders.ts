import { orders } from "../../../generated/streams/index.js";
import type { Producer } from "../../../src/typed/producer.js";

/** About 9.7 KB encoded (about 11 KB as envelope JSON): 40 line items with long SKUs. */
export function bigOrder(orderId: string) {
  return {
    type: "demo.orders.v1.OrderCreated" as const,
    data: {
      orderId,
      customerId: `cust-${orderId}`,
      items: Array.from({ length: 40 }, (_, i) => ({
        sku: `${orderId}/sku-${i}/` + "s".repeat(220),
        quantity: i + 1,
        unitPriceCents: BigInt(100 + i),
      })),
      totalCents: 123_456n,
      currency: "EUR",
    },
  };
}

/**
 * Publishes `count` big orders named `${tag}-0`…, `concurrency` at a time, recording
 * offset → orderId in `into`. Returns the offsets in the order they were acknowledged.
 */
export async function publishBigOrders(
  producer: Producer<typeof orders>,
  tag: string,
  count: number,
  into: Map<number, string>,
  concurrency = 100,
): Promise<void> {
  for (let start = 0; start < count; start += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count - start) }, async (_, j) => {
        const orderId = `${tag}-${start + j}`;
        const { offset, duplicate } = await producer.publish(bigOrder(orderId), { id: `ev-${orderId}` });
        if (duplicate) throw new Error(`${orderId} stored as a duplicate`);
        into.set(offset, orderId);
      }),
    );
  }
}
