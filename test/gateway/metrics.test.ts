import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

const metric = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? 0);

it("counts published and delivered events, and open connections, in Prometheus text", async () => {
  const before = await (await fetch(gw.url + "/metrics")).text();
  for (const orderId of ["m-1", "m-2"]) {
    const res = await fetch(gw.url + "/v1/streams/orders/events", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "demo.orders.v1.OrderShipped", data: { orderId } }),
    });
    expect(res.status).toBe(201);
  }
  const poll = await (await fetch(gw.url + "/v1/streams/orders/poll?from=first&wait=0")).json();
  expect(poll.events).toHaveLength(2);

  const res = await fetch(gw.url + "/metrics");
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  const after = await res.text();
  const published = 'streamgate_events_published_total{stream="orders"}';
  const delivered = 'streamgate_events_delivered_total{protocol="poll"}';
  expect(metric(after, published) - metric(before, published)).toBe(2);
  expect(metric(after, delivered) - metric(before, delivered)).toBe(2);
  expect(metric(after, 'streamgate_open_connections{protocol="poll"}')).toBe(0);
  expect(metric(after, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
});
