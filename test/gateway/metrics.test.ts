import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { scrapeMetrics, seriesValue } from "../support/metrics.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

const PUBLISHED = 'streamgate_events_published_total{stream="orders"}';
const DELIVERED = 'streamgate_events_delivered_total{protocol="poll"}';
const OPEN_POLLS = 'streamgate_open_connections{protocol="poll"}';

async function publishShipped(orderId: string): Promise<number> {
  const res = await gw.api.postJson("/v1/streams/orders/events", { type: "demo.orders.v1.OrderShipped", data: { orderId } });
  expect(res.status, res.text).toBe(201);
  return res.body.offset;
}

it("counts published and delivered events, and open connections, in Prometheus text", async () => {
  // One event published and polled first, so that every series counted below already exists.
  const first = await publishShipped("m-0");
  expect((await gw.api.get(`/v1/streams/orders/poll?from=${first}&wait=0`)).body.events).toHaveLength(1);
  const before = await scrapeMetrics(gw.url);
  expect(seriesValue(before, OPEN_POLLS)).toBe(0);

  // A long poll waiting at the end of the stream is an open connection until it answers.
  const waiting = gw.api.get(`/v1/streams/orders/poll?from=${first + 1}&wait=10`);
  await expect.poll(async () => seriesValue(await scrapeMetrics(gw.url), OPEN_POLLS), { timeout: 5_000, interval: 20 }).toBe(1);
  const offsets = [await publishShipped("m-1"), await publishShipped("m-2")];
  const answered = await waiting;
  expect(answered.status, answered.text).toBe(200);
  const rest = await gw.api.get(`/v1/streams/orders/poll?from=${answered.body.next}&wait=0`);
  expect([...answered.body.events, ...rest.body.events].map((e: { offset: number }) => e.offset)).toEqual(offsets);

  const after = await scrapeMetrics(gw.url);
  expect(seriesValue(after, PUBLISHED) - seriesValue(before, PUBLISHED)).toBe(2);
  expect(seriesValue(after, DELIVERED) - seriesValue(before, DELIVERED)).toBe(2);
  expect(seriesValue(after, OPEN_POLLS)).toBe(0);
  expect(seriesValue(after, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
});

it("fails on a series that is not there rather than reading it as 0", async () => {
  const exposition = await scrapeMetrics(gw.url);
  expect(() => seriesValue(exposition, 'streamgate_open_connections{protocol="carrier-pigeon"}')).toThrow(/no series/);
});
