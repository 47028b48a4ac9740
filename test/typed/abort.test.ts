import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { consume } from "../../src/typed/consumer.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestBackbone, type TestBackbone } from "../support/backbone.js";
import { consumerNames, waitForNewConsumer } from "../support/live-read.js";

let backbone: TestBackbone;
beforeAll(async () => {
  backbone = await startTestBackbone();
  await createProducer(backbone.js, orders).publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: "a-1" } });
});
afterAll(async () => backbone?.close());

/** What the iterator's pending step settles to within `ms`, or "pending". */
async function settled<T>(step: Promise<IteratorResult<T>>, ms: number): Promise<IteratorResult<T> | "pending"> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<"pending">((resolve) => (timer = setTimeout(() => resolve("pending"), ms)));
  try {
    return await Promise.race([step, pending]);
  } finally {
    clearTimeout(timer);
  }
}

describe("stopping a read with its signal", () => {
  it("aborting while the read waits for events ends it", async () => {
    const controller = new AbortController();
    const existing = await consumerNames(backbone.jsm, "orders");
    const read = consume(backbone, orders, { position: { from: "now" }, signal: controller.signal });
    const step = read.next();
    await waitForNewConsumer(backbone.jsm, "orders", existing);
    controller.abort();
    expect(await settled(step, 2_000)).toEqual({ done: true, value: undefined });
  });

  it("a signal aborted before the read starts ends it at once", async () => {
    const read = consume(backbone, orders, { position: { from: "first" }, signal: AbortSignal.abort() });
    // It ends at once without reading: no event (the stream has one), no waiting, no error.
    expect(await settled(read.next(), 2_000)).toEqual({ done: true, value: undefined });
  });

  it("aborting while the read is still attaching ends it", async () => {
    const controller = new AbortController();
    const read = consume(backbone, orders, { position: { from: "now" }, signal: controller.signal });
    const step = read.next();
    // The generator is now between reading the stream state and creating its consumer.
    controller.abort();
    expect(await settled(step, 2_000)).toEqual({ done: true, value: undefined });
  });
});
