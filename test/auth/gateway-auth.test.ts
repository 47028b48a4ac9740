/**
 * PROTOCOL.md section 9 through a real gateway: credentials on every route, grants down to
 * stream, type and key, expiry on SSE and WebSocket, Host and Origin checks, safe defaults.
 * Tokens are real HS256 JWTs signed here with jose; the API key is real too.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Grant } from "../../src/auth/principal.js";
import { loadConfig } from "../../src/config/config.js";
import { runGateway } from "../../src/app.js";
import { bearer, signToken as token, startAuthGateway, type AuthGateway } from "../support/auth-gateway.js";
import { client, expectError, type HttpResponse } from "../support/http.js";
import { SseConnection } from "../support/sse-frames.js";
import { WsClient, wsUrl } from "../support/ws-client.js";

const ORIGIN = "https://app.example.test";
const ORDERS_OF_17: Grant[] = [{ streams: ["orders"], actions: ["subscribe"], keys: ["ord-17"] }];

let gw: AuthGateway;

beforeAll(async () => {
  gw = await startAuthGateway({
    allowedOrigins: [ORIGIN],
    hostnames: ["events.example.test"],
    env: { STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" },
  });
});
afterAll(async () => gw?.close());

const http = () => client(gw.url);
const publishOrder = (orderId: string) =>
  http().postJson("/v1/streams/orders/events", { type: "demo.orders.v1.OrderShipped", data: { orderId } }, bearer(gw.publisherKey));

function expectChallenge(res: HttpResponse, status: 401 | 403): void {
  expectError(res, status, status === 401 ? "unauthenticated" : "permission_denied");
  expect(res.headers.get("www-authenticate")).toBe(status === 401 ? 'Bearer error="invalid_token"' : 'Bearer error="insufficient_scope"');
}

describe("credentials (9.1, 9.3)", () => {
  it("no credential: 401 on every /v1 route that reads, publishes or manages; health stays open", async () => {
    for (const path of ["/v1/streams", "/v1/streams/orders", "/v1/streams/orders/poll?wait=0", "/v1/streams/orders/sse", "/v1/webhooks"]) {
      expectChallenge(await http().get(path), 401);
    }
    expectChallenge(await http().postJson("/v1/streams/orders/events", { type: "demo.orders.v1.OrderShipped", data: { orderId: "x" } }), 401);
    expect((await http().get("/healthz")).status).toBe(200);
  });

  it("a bad signature, a wrong audience, an expired token and a malformed header are 401, naming no part of the token", async () => {
    const forged = await token(ORDERS_OF_17, { secret: "another secret of the same length, but not ours" });
    const elsewhere = await token(ORDERS_OF_17, { audience: "someone-else" });
    const expired = await token(ORDERS_OF_17, { ttlSeconds: -120 });
    for (const headers of [bearer(forged), bearer(elsewhere), bearer(expired), { authorization: "Basic dXNlcjpwYXNz" }]) {
      const res = await http().get("/v1/streams/orders/poll?wait=0&key=ord-17", headers);
      expectChallenge(res, 401);
      expect(res.text).not.toContain(headers.authorization.slice(7, 40));
    }
  });

  it("the streamgate_token cookie is a credential; access_token= in the query is not (allowQueryToken is off)", async () => {
    const t = await token(ORDERS_OF_17);
    expect((await http().get("/v1/streams/orders/poll?wait=0&key=ord-17", { cookie: `streamgate_token=${t}` })).status).toBe(200);
    expectError(await http().get(`/v1/streams/orders/poll?wait=0&key=ord-17&access_token=${t}`), 400, "invalid_argument");
  });
});

describe("grants (9.2)", () => {
  it("a key-narrowed subscribe grant reads its key and nothing wider; GET /v1/streams lists only what it may read", async () => {
    const t = await token(ORDERS_OF_17);
    expect((await http().get("/v1/streams/orders/poll?wait=0&key=ord-17", bearer(t))).status).toBe(200);
    const wider = await http().get("/v1/streams/orders/poll?wait=0", bearer(t));
    expectChallenge(wider, 403);
    expect(wider.body.error.message).toContain("key= one of ord-17");
    expectChallenge(await http().get("/v1/streams/metrics/poll?wait=0", bearer(t)), 403);
    const listed = await http().get("/v1/streams", bearer(t));
    expect(listed.body.streams.map((s: { name: string }) => s.name)).toEqual(["orders"]);
    expectChallenge(await http().get("/v1/streams/metrics", bearer(t)), 403);
  });

  it("publishing needs publish on that stream: the API key may, the reader may not, and a batch is refused whole", async () => {
    const stored = await publishOrder("ord-17");
    expect(stored.status, stored.text).toBe(201);
    const reader = await token(ORDERS_OF_17);
    expectChallenge(await http().postJson("/v1/streams/orders/events", { type: "demo.orders.v1.OrderShipped", data: { orderId: "ord-17" } }, bearer(reader)), 403);
    const before = (await http().get("/v1/streams/metrics", bearer(await token([{ streams: ["*"], actions: ["subscribe"] }])))).body.last_offset;
    const batch = await http().postJson("/v1/streams/metrics/events:batch", { events: [{ data: { name: "cpu", value: 1 } }] }, bearer(gw.publisherKey));
    expectChallenge(batch, 403);
    const after = (await http().get("/v1/streams/metrics", bearer(await token([{ streams: ["*"], actions: ["subscribe"] }])))).body.last_offset;
    expect(after).toBe(before);
  });

  it("the webhook API needs admin on the webhook's stream", async () => {
    const body = { url: "http://127.0.0.1:9/hook", stream: "orders", paused: true };
    expectChallenge(await http().postJson("/v1/webhooks", body, bearer(await token(ORDERS_OF_17))), 403);
    const admin = bearer(await token([{ streams: ["orders"], actions: ["admin"] }]));
    const created = await http().postJson("/v1/webhooks", body, admin);
    expect(created.status, created.text).toBe(201);
    expect((await http().get(`/v1/webhooks/${created.body.id}`, admin)).status).toBe(200);
    expectChallenge(await http().get(`/v1/webhooks/${created.body.id}`, bearer(await token([{ streams: ["metrics"], actions: ["admin"] }]))), 403);
    const listed = await http().get("/v1/webhooks", bearer(await token([{ streams: ["metrics"], actions: ["admin"] }])));
    expect(listed.body.webhooks).toEqual([]);
  });

  it("WebSocket: every operation is checked against the credential of the upgrade", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: bearer(await token(ORDERS_OF_17)) });
    try {
      expect((await ws.subscribe({ sub: "mine", stream: "orders", key: "ord-17" })).op).toBe("subscribed");
      ws.send({ op: "subscribe", sub: "all", stream: "orders" });
      expect(await ws.nextOp("error", { sub: "all" })).toMatchObject({ code: "permission_denied" });
      ws.send({ op: "publish", ref: "p1", stream: "orders", type: "demo.orders.v1.OrderShipped", data: { orderId: "ord-17" } });
      expect(await ws.nextOp("error", { ref: "p1" })).toMatchObject({ code: "permission_denied" });
    } finally {
      await ws.close();
    }
  });
});

describe("expiry (9.3)", () => {
  it("SSE: `event: expired` at exp, then the end; a reconnect with a fresh token and Last-Event-ID resumes with nothing lost", async () => {
    const short = await token(ORDERS_OF_17, { ttlSeconds: 3 });
    const first = await SseConnection.open(`${gw.url}/v1/streams/orders/sse?key=ord-17&from=now`, { headers: bearer(short) });
    const offsets: number[] = [];
    offsets.push((await publishOrder("ord-17")).body.offset);
    await first.waitForEvents(1);
    await first.until(() => first.ended, "the response to end at expiry", 8_000);
    const expired = first.messages().find((m) => m.event === "expired");
    expect(expired, "an expired event").toBeDefined();
    expect(JSON.parse(expired!.data!)).toEqual({ expires_at: expect.any(Number) });
    offsets.push((await publishOrder("ord-17")).body.offset);
    const last = first.offsets().at(-1)!;
    const second = await SseConnection.open(`${gw.url}/v1/streams/orders/sse?key=ord-17`, {
      headers: { ...bearer(await token(ORDERS_OF_17)), "last-event-id": String(last) },
    });
    await second.waitForEvents(1);
    expect([...first.offsets(), ...second.offsets()]).toEqual(offsets);
    await second.close();
  });

  it("WebSocket: at exp an `error` unauthenticated, then close 1008", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: bearer(await token(ORDERS_OF_17, { ttlSeconds: 3 })) });
    expect(await ws.nextOp("error", {}, 8_000)).toMatchObject({ code: "unauthenticated" });
    expect((await ws.waitClosed(5_000)).code).toBe(1008);
  });

  it("a WebSocket that never authenticates is closed with 1008 after 10 s; what it asks meanwhile is unauthenticated", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    ws.send({ op: "subscribe", sub: "s", stream: "orders", key: "ord-17" });
    expect(await ws.nextOp("error", { sub: "s" })).toMatchObject({ code: "unauthenticated" });
    expect((await ws.waitClosed(15_000)).code).toBe(1008);
  });
});

describe("browsers (9.4)", () => {
  it("an Origin not listed is refused (403); a listed one gets CORS with credentials", async () => {
    const t = bearer(await token(ORDERS_OF_17));
    expectError(await http().get("/v1/streams/orders/poll?wait=0&key=ord-17", { ...t, origin: "https://evil.example.test" }), 403, "permission_denied");
    const allowed = await http().get("/v1/streams/orders/poll?wait=0&key=ord-17", { ...t, origin: ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("on loopback, a Host that is not localhost, 127.0.0.1, [::1] or a configured name is 421", async () => {
    // fetch may not set Host: node:http can, as a DNS-rebinding page's browser effectively does.
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${gw.url}/healthz`, { headers: { host } }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    const rebound = await withHost("rebound.attacker.test");
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: "misdirected_request" } });
    expect((await withHost("events.example.test:8080")).status).toBe(200);
    expect((await withHost("localhost:1")).status).toBe(200);
    expect((await withHost("[::1]:1")).status).toBe(200);
  });
});

describe("safe defaults (9)", () => {
  it("a gateway on a non-loopback address without auth refuses to start, saying how to configure it", async () => {
    await expect(runGateway(loadConfig({ HOST: "0.0.0.0", PORT: "0", NATS_URL: gw.nats.url }))).rejects.toThrow(/STREAMGATE_AUTH=none/);
  });
});
