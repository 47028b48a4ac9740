/**
 * GET /metrics (PROTOCOL.md section 7; README "Operations"): a real gateway under a small load
 * of every kind (HTTP and WebSocket publishes, an SSE reader, a WebSocket reader, long polls,
 * webhooks that deliver, fail and time out), scraped before and after, every series read with
 * a parser of the text format.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { whileFrozen } from "../support/backbone-trouble.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { T, tag } from "../support/events.js";
import { Exposition, scrape, seriesValue, scrapeMetrics, type Labels } from "../support/metrics.js";
import { SseConnection } from "../support/sse-frames.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { Hooks } from "../support/webhooks.js";
import { uid, WsClient, wsUrl } from "../support/ws-client.js";

let gw: TestGateway;
let receiver: Receiver;
let hooks: Hooks;
beforeAll(async () => {
  // Webhook receivers on this machine are allowed on purpose.
  gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  receiver = await startReceiver((req) => (req.path === "/fail" ? 500 : req.path === "/slow" ? { hang: true } : 204));
  hooks = new Hooks(gw.api);
});
afterAll(async () => {
  await hooks?.cleanup();
  await receiver?.close();
  await gw?.close();
});

const PATIENCE = { timeout: 15_000, interval: 50 };

/** How much a counter or a histogram's count rose between two scrapes. */
const rise = (before: Exposition, after: Exposition, name: string, labels: Labels) => after.value(name, labels) - before.value(name, labels);
const countRise = (before: Exposition, after: Exposition, name: string, labels: Labels) =>
  after.histogram(name, labels).count - before.histogram(name, labels).count;

async function publishHttp(key: string): Promise<number> {
  const res = await gw.api.postJson("/v1/streams/orders/events", { type: T.shipped, key, data: { orderId: key } });
  expect(res.status, res.text).toBe(201);
  return res.body.offset;
}

async function publishWs(ws: WsClient, key: string): Promise<number> {
  const ref = uid("pub");
  ws.send({ op: "publish", ref, stream: "orders", type: T.shipped, key, data: { orderId: key } });
  const ack = await ws.nextOp("published", { ref });
  expect(ack.duplicate).toBe(false);
  return ack.offset;
}

const openConnections = (e: Exposition) =>
  Object.fromEntries(["sse", "ws", "poll"].map((protocol) => [protocol, e.value("streamgate_open_connections", { protocol })]));
const readers = (e: Exposition) => ({
  live: e.value("streamgate_readers", { state: "live" }),
  catchingUp: e.value("streamgate_readers", { state: "catching_up" }),
});

describe("GET /metrics under a small load", () => {
  it("counts, times and shows every protocol's work, and the gauges follow connections open and closed", async () => {
    const t = tag("m");
    const keys = { ok: `${t}-ok`, fail: `${t}-fail`, slow: `${t}-slow` };
    const ok = await hooks.create({ url: receiver.url, stream: "orders", key: keys.ok });
    await hooks.create({ url: `${receiver.origin}/fail`, stream: "orders", key: keys.fail, retrySchedule: ["100ms"] });
    await hooks.create({ url: `${receiver.origin}/slow`, stream: "orders", key: keys.slow, timeoutMs: 200, retrySchedule: [] });
    // A publish of each kind first: series appear with their first label set.
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    const warmUp = [await publishHttp(`${t}-warm-up`), await publishWs(ws, `${t}-warm-up`)];
    const before = await scrape(gw.url);
    expect(openConnections(before)).toEqual({ sse: 0, ws: 1, poll: 0 });

    // Readers: SSE, a WebSocket subscription, a long poll waiting at the end of the stream.
    const sse = await SseConnection.open(`${gw.url}/v1/streams/orders/sse?from=now`);
    expect(sse.status).toBe(200);
    const subscribed = await ws.subscribe({ sub: "all", stream: "orders", from: "now" });
    const polls = [gw.api.get(`/v1/streams/orders/poll?from=${subscribed.last_offset + 1}&wait=30`)];
    await expect.poll(async () => openConnections(await scrape(gw.url)), PATIENCE).toEqual({ sse: 1, ws: 1, poll: 1 });
    expect(readers(await scrape(gw.url))).toEqual({ live: 3, catchingUp: 0 });

    // 5 events over HTTP (one for each failing webhook), 2 over the WebSocket.
    const offsets = [
      await publishHttp(keys.ok),
      await publishHttp(keys.fail),
      await publishHttp(keys.ok),
      await publishHttp(keys.slow),
      await publishHttp(keys.ok),
      await publishWs(ws, keys.ok),
      await publishWs(ws, keys.ok),
    ];
    expect((await sse.waitForEvents(7)).map((e) => e.offset)).toEqual(offsets);
    expect((await ws.events("all", 7)).map((e) => e.offset)).toEqual(offsets);
    // The long poll answers with what came first; later polls take the rest.
    const polled: number[] = [];
    while (polled.length < offsets.length) {
      const res = await polls.at(-1)!;
      expect(res.status, res.text).toBe(200);
      polled.push(...res.body.events.map((e: { offset: number }) => e.offset));
      if (polled.length < offsets.length) polls.push(gw.api.get(`/v1/streams/orders/poll?from=${res.body.next}&wait=30`));
    }
    expect(polled).toEqual(offsets);
    // A replay (stored before any reader read the stream live) is delivered, but not timed.
    const replay = await gw.api.get(`/v1/streams/orders/poll?from=${warmUp[0]}&max=2&wait=0`);
    expect(replay.body.events.map((e: { offset: number }) => e.offset)).toEqual(warmUp);
    // The ok webhook's five (three over HTTP, two over the WebSocket), two attempts of the
    // failing one, one of the slow one, and both of those as dead letters.
    const attempts = (e: Exposition) =>
      Object.fromEntries(["delivered", "rejected", "timeout", "unreachable", "forbidden"].map((o) => [o, rise(before, e, "streamgate_webhook_attempts_total", { outcome: o })]));
    await expect
      .poll(async () => {
        const now = await scrape(gw.url);
        return { ...attempts(now), dead: rise(before, now, "streamgate_webhook_dead_letters_total", {}) };
      }, PATIENCE)
      .toEqual({ delivered: 5, rejected: 2, timeout: 1, unreachable: 0, forbidden: 0, dead: 2 });
    // A 404 under a route pattern, and one under none: the raw URL is never a label.
    expect((await gw.api.get(`/v1/streams/${t}-nope`)).status).toBe(404);
    expect((await gw.api.get(`/no/such/${t}`)).status).toBe(404);

    const after = await scrape(gw.url);
    expect(rise(before, after, "streamgate_events_published_total", { stream: "orders" })).toBe(7);
    expect(countRise(before, after, "streamgate_publish_duration_seconds", { protocol: "http", outcome: "stored" })).toBe(5);
    expect(countRise(before, after, "streamgate_publish_duration_seconds", { protocol: "ws", outcome: "stored" })).toBe(2);
    for (const [protocol, delivered, live] of [["sse", 7, 7], ["ws", 7, 7], ["poll", 9, 7], ["webhook", 5, 5]] as const) {
      expect(rise(before, after, "streamgate_events_delivered_total", { protocol }), protocol).toBe(delivered);
      // Those read live, each within a minute of its publish.
      const latency = after.histogram("streamgate_delivery_latency_seconds", { protocol });
      const earlier = before.histogram("streamgate_delivery_latency_seconds", { protocol });
      expect(latency.count - earlier.count, protocol).toBe(live);
      expect(latency.buckets.get("60")! - earlier.buckets.get("60")!, protocol).toBe(live);
      expect(latency.sum, protocol).toBeGreaterThanOrEqual(earlier.sum);
    }
    const responses = { method: "POST", route: "/v1/streams/:stream/events", status: "201" };
    expect(rise(before, after, "streamgate_http_responses_total", responses)).toBe(5);
    expect(after.value("streamgate_http_responses_total", { method: "GET", route: "/v1/streams/:stream/poll", status: "200" })).toBeGreaterThanOrEqual(polls.length);
    expect(after.value("streamgate_http_responses_total", { method: "GET", route: "/v1/streams/:stream", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(after.value("streamgate_http_responses_total", { method: "GET", route: "unmatched", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(after.samples("streamgate_http_responses_total").filter((s) => s.labels.route!.includes(t))).toEqual([]);
    expect(after.value("streamgate_webhook_status", { webhook: ok.id, stream: "orders", status: "active" })).toBe(1);
    expect(after.value("streamgate_webhook_status", { webhook: ok.id, stream: "orders", status: "paused" })).toBe(0);
    expect(after.value("streamgate_nats_connection_state", { state: "connected" })).toBe(1);
    expect(after.value("process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(after.value("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(after.family("nodejs_eventloop_lag_p99_seconds").type).toBe("gauge");
    expect(after.family("nodejs_gc_duration_seconds").type).toBe("histogram");

    // A backlog: every event settled, then two waiting while the webhook is paused.
    const backlog = async () => (await scrape(gw.url)).value("streamgate_webhook_backlog", { webhook: ok.id, stream: "orders" });
    await expect.poll(backlog, PATIENCE).toBe(0);
    expect((await hooks.patch(ok.id, { paused: true })).status).toBe(200);
    await publishHttp(keys.ok);
    await publishHttp(keys.ok);
    await expect.poll(backlog, PATIENCE).toBe(2);
    const paused = await scrape(gw.url);
    expect(paused.value("streamgate_webhook_status", { webhook: ok.id, stream: "orders", status: "paused" })).toBe(1);
    expect(paused.value("streamgate_webhook_status", { webhook: ok.id, stream: "orders", status: "active" })).toBe(0);
    // A deleted webhook leaves no series behind.
    await hooks.cleanup();
    await expect
      .poll(async () => (await scrape(gw.url)).samples("streamgate_webhook_status", { webhook: ok.id }).length, PATIENCE)
      .toBe(0);

    await sse.close();
    await ws.close();
    await expect.poll(async () => openConnections(await scrape(gw.url)), PATIENCE).toEqual({ sse: 0, ws: 0, poll: 0 });
    expect(readers(await scrape(gw.url))).toEqual({ live: 0, catchingUp: 0 });
  });
});

describe("the backbone's state", () => {
  it("scrapes within a bound while NATS does not answer, rather than wait on every webhook's backlog", async () => {
    await hooks.create({ url: receiver.url, stream: "orders", key: tag("frozen") });
    await scrapeMetrics(gw.url);
    const durations: number[] = [];
    await whileFrozen(gw.nats.pid, async () => {
      // Backlogs read less than a second ago are answered as they are; past that, every scrape
      // waits for a read of them, which a frozen server never answers (JetStream's own timeout: 5 s).
      const end = performance.now() + 2_500;
      while (performance.now() < end) {
        const started = performance.now();
        await scrapeMetrics(gw.url);
        durations.push(performance.now() - started);
      }
    });
    expect(Math.max(...durations), durations.map(Math.round).join(", ")).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...durations), durations.map(Math.round).join(", ")).toBeLessThan(3_000);
  });

  it("shows NATS reconnecting while it is away, and connected again after, counting the reconnect", async () => {
    const before = await scrape(gw.url);
    const state = async () => {
      const e = await scrape(gw.url);
      return Object.fromEntries(["connected", "reconnecting", "draining", "closed"].map((s) => [s, e.value("streamgate_nats_connection_state", { state: s })]));
    };
    await gw.nats.down();
    try {
      await expect.poll(state, PATIENCE).toEqual({ connected: 0, reconnecting: 1, draining: 0, closed: 0 });
    } finally {
      await gw.nats.up();
    }
    await expect.poll(state, PATIENCE).toEqual({ connected: 1, reconnecting: 0, draining: 0, closed: 0 });
    expect(rise(before, await scrape(gw.url), "streamgate_nats_reconnects_total", {})).toBe(1);
  });
});

describe("reading the exposition", () => {
  it("fails on a series that is not there rather than reading it as 0", async () => {
    const exposition = await scrapeMetrics(gw.url);
    expect(() => seriesValue(exposition, 'streamgate_open_connections{protocol="carrier-pigeon"}')).toThrow(/no series/);
    expect(() => Exposition.parse(exposition).value("streamgate_no_such_metric")).toThrow(/no metric/);
  });

  it("refuses text that is not the Prometheus format", () => {
    const family = "# HELP a_total A.\n# TYPE a_total counter\n";
    expect(Exposition.parse(`${family}a_total{x="a \\"b\\" \\\\ c"} 3\n`).value("a_total", { x: 'a "b" \\ c' })).toBe(3);
    for (const bad of [`${family}a_total{x="open} 1`, `${family}a_total{x=1} 1`, `${family}a_total 1 2 3`, `${family}a_total one`, `${family}b_total 1`]) {
      expect(() => Exposition.parse(bad), bad).toThrow();
    }
  });
});
