import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

async function getJson(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(gw.url + path);
  return { status: res.status, body: await res.json() };
}

describe("stream info", () => {
  it("lists the example streams with their types and offsets", async () => {
    const { status, body } = await getJson("/v1/streams");
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.streams.map((s: { name: string }) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(["metrics", "orders"]);
    expect(byName.orders).toMatchObject({
      name: "orders",
      description: "Order lifecycle: created, shipped, cancelled.",
      types: ["demo.orders.v1.OrderCreated", "demo.orders.v1.OrderShipped", "demo.orders.v1.OrderCancelled"],
      first_offset: 1,
      last_offset: 0,
      events: 0,
      bytes: 0,
    });
    expect(byName.metrics.types).toEqual(["demo.metrics.v1.MetricSample"]);
    expect(byName.orders.epoch).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Number.isNaN(Date.parse(byName.orders.created))).toBe(false);
  });

  it("reports offsets, counts and the epoch of one stream as events arrive", async () => {
    const before = (await getJson("/v1/streams/orders")).body;
    const producer = createProducer(gw.gateway.session.backbone.js, orders);
    for (let i = 0; i < 3; i++) {
      await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: `o-${i}` } });
    }
    const { status, body } = await getJson("/v1/streams/orders");
    expect(status).toBe(200);
    expect(body.last_offset).toBe(before.last_offset + 3);
    expect(body.events).toBe(before.events + 3);
    expect(body.bytes).toBeGreaterThan(before.bytes);
    expect(body.epoch).toBe(before.epoch);
  });

  it("answers unknown streams and routes with a not_found error", async () => {
    expect(await getJson("/v1/streams/nope")).toEqual({
      status: 404,
      body: { error: { code: "not_found", message: expect.stringContaining('"nope"') } },
    });
    expect((await getJson("/v1/nothing-here")).body.error.code).toBe("not_found");
  });
});

describe("health", () => {
  it("is alive and ready while the backbone answers, unready while it is down, ready again after", async () => {
    expect((await getJson("/healthz")).status).toBe(200);
    expect((await getJson("/readyz")).status).toBe(200);

    await gw.nats.down();
    const down = await getJson("/readyz");
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe("unavailable");
    expect((await getJson("/healthz")).status).toBe(200);

    await gw.nats.up();
    await expect.poll(async () => (await getJson("/readyz")).status, { timeout: 10_000 }).toBe(200);
  });
});
