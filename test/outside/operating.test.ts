// PROTOCOL.md section 7 (and the 503 rule of section 4): health, metrics, backbone loss, SIGTERM.
import { describe, expect, it } from "vitest";
import {
  groupAlive,
  listenerPid,
  nextData,
  openJsonWs,
  openSse,
  postJson,
  publish,
  request,
  shipped,
  startStack,
  uniqueKey,
  waitFor,
  wsUrl,
  type Gateway,
  type JsonObject,
  type SseConnection,
  type WsConnection,
  useStack,
} from "./support.js";

const stack = useStack();

describe("health and metrics (section 7)", () => {
  it("/healthz and /readyz answer 200 while JetStream answers", async () => {
    expect((await request(`${stack().base}/healthz`)).status).toBe(200);
    expect((await request(`${stack().base}/readyz`)).status).toBe(200);
  });

  it("/metrics is Prometheus text format", async () => {
    await publish(stack().base, "orders", shipped(uniqueKey("m"), 1));
    const reply = await request(`${stack().base}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toMatch(/^text\/plain(;|$)/);
    expect(reply.headers.get("content-type")).toMatch(/version=0\.0\.4/);
    const lines = reply.text.split("\n").filter((line) => line !== "");
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? [-+]?([0-9.eE+-]+|NaN|[+-]?Inf)( \d+)?$/;
    const comment = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;
    const bad = lines.filter((line) => !sample.test(line) && !comment.test(line));
    expect(bad).toEqual([]);
    expect(lines.some((line) => /^# TYPE \S+ (counter|gauge|histogram|summary|untyped)$/.test(line))).toBe(true);
    expect(lines.filter((line) => !line.startsWith("#")).length).toBeGreaterThan(0);
  });
});

describe("a backbone that goes away (sections 4 and 7)", () => {
  it("answers 503 unavailable with Retry-After on every route and /readyz, and recovers", async () => {
    const own = await startStack();
    try {
      await own.nats.kill();
      await waitFor(async () => ((await request(`${own.base}/readyz`)).status === 503 ? true : undefined), "/readyz = 503");
      expect((await request(`${own.base}/healthz`)).status).toBe(200);
      const routes: Array<[string, RequestInit]> = [
        ["/v1/streams", {}],
        ["/v1/streams/orders", {}],
        ["/v1/streams/orders/poll?wait=0", {}],
        ["/v1/streams/orders/sse", {}],
        ["/v1/streams/orders/events", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(shipped("down", 1)) }],
        ["/v1/webhooks", {}],
      ];
      const answers = await Promise.all(
        routes.map(async ([path, init]) => {
          const reply = await request(`${own.base}${path}`, init);
          return { path, status: reply.status, body: reply.text, retryAfter: reply.headers.get("retry-after") };
        }),
      );
      expect(answers).toEqual(
        routes.map(([path]) => ({
          path,
          status: 503,
          body: expect.stringMatching(/^\{"error":\{"code":"unavailable","message":"[^"]+/),
          retryAfter: expect.stringMatching(/^\d+$/),
        })),
      );
      await own.nats.start();
      await waitFor(async () => ((await request(`${own.base}/readyz`)).status === 200 ? true : undefined), "/readyz = 200 again", 30_000);
      const published = await postJson(`${own.base}/v1/streams/orders/events`, shipped(uniqueKey("back"), 1));
      expect(published.status).toBe(201);
    } finally {
      await own.stop();
    }
  });
});

/** Opens a WebSocket subscription and an SSE response on `base`, both seen live. */
async function openClients(base: string): Promise<{ ws: WsConnection<JsonObject>; sse: SseConnection }> {
  const ws = await openJsonWs(wsUrl(base, "/v1/ws"));
  ws.send({ op: "subscribe", sub: "s", stream: "orders" });
  expect((await ws.frames.take("subscribed")).op).toBe("subscribed");
  const sse = await openSse(`${base}/v1/streams/orders/sse`);
  await sse.blocks.take("retry block");
  await publish(base, "orders", shipped(uniqueKey("term"), 1));
  await nextData(sse, "a live event before SIGTERM");
  expect((await ws.frames.take("a live event before SIGTERM")).op).toBe("event");
  return { ws, sse };
}

function bounded<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`${what} not within ${ms} ms`)), ms))]);
}

/** What section 7 asks after a SIGTERM: 1012, SSE ended, exit 0, nothing left, port closed. */
async function expectGracefulExit(gateway: Gateway, clients: { ws: WsConnection<JsonObject>; sse: SseConnection }): Promise<void> {
  const pid = gateway.child.pid!;
  const outcome = await Promise.allSettled([
    bounded(clients.ws.closed.then((closed) => closed.code), "WebSocket close"),
    bounded(clients.sse.ended.then(() => "ended"), "end of the SSE response"),
    bounded(gateway.exited, "exit of the started process"),
    waitFor(async () => (groupAlive(pid) ? undefined : "none"), "no process of the gateway left", 10_000),
  ]);
  expect(outcome.map((result) => (result.status === "fulfilled" ? result.value : String(result.reason)))).toEqual([
    1012,
    "ended",
    { code: 0, signal: null },
    "none",
  ]);
  await expect(fetch(`http://127.0.0.1:${gateway.port}/healthz`)).rejects.toThrow();
}

describe("SIGTERM (section 7)", () => {
  it("to the gateway's own process: WebSockets closed with 1012, SSE ended, exit 0, nothing left behind", async () => {
    const clients = await openClients(stack().base);
    process.kill(listenerPid(stack().gateway.child.pid!, stack().gateway.port), "SIGTERM");
    await expectGracefulExit(stack().gateway, clients);
  });

  // The launches PROTOCOL.md section 7 names (`streamgate serve` comes with the installed package).
  for (const launch of ["npm start"] as const) {
    it(`to the process a supervisor started (${launch}): the same`, async () => {
      const own = await startStack({}, launch);
      try {
        const clients = await openClients(own.base);
        own.gateway.child.kill("SIGTERM");
        await expectGracefulExit(own.gateway, clients);
      } finally {
        await own.stop();
      }
    });
  }
});
