import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { expectError } from "../support/http.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe("stream info", () => {
  it("lists the example streams with their types and offsets", async () => {
    const { status, body } = await gw.api.get("/v1/streams");
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
    const before = (await gw.api.get("/v1/streams/orders")).body;
    const producer = createProducer(gw.gateway.session.backbone.js, orders);
    for (let i = 0; i < 3; i++) {
      await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: `o-${i}` } });
    }
    const { status, body } = await gw.api.get("/v1/streams/orders");
    expect(status).toBe(200);
    expect(body.last_offset).toBe(before.last_offset + 3);
    expect(body.events).toBe(before.events + 3);
    expect(body.bytes).toBeGreaterThan(before.bytes);
    expect(body.epoch).toBe(before.epoch);
  });

  it("answers unknown streams and routes with a not_found error", async () => {
    const unknownStream = await gw.api.get("/v1/streams/nope");
    expectError(unknownStream, 404, "not_found");
    expect(unknownStream.body).toEqual({ error: { code: "not_found", message: expect.stringContaining('"nope"') } });
    expectError(await gw.api.get("/v1/nothing-here"), 404, "not_found");
  });
});

describe("health", () => {
  it("is alive and ready while the backbone answers, unready while it is down, ready again after", async () => {
    expect((await gw.api.get("/healthz")).status).toBe(200);
    expect((await gw.api.get("/readyz")).status).toBe(200);

    await gw.nats.down();
    const down = await gw.api.get("/readyz");
    expectError(down, 503, "unavailable");
    expect(down.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await gw.api.get("/healthz")).status).toBe(200);

    await gw.nats.up();
    await expect.poll(async () => (await gw.api.get("/readyz")).status, { timeout: 10_000 }).toBe(200);
  });
});
