/**
 * PROTOCOL.md section 9.3 on a WebSocket, through a real gateway: the `auth` frame
 * authenticates a connection or refreshes its credential in place, subscriptions are held to
 * the new grants, `expiring` comes 30 s before exp, and a refresh moves the expiry.
 * Tokens are real HS256 JWTs signed here with jose; the publisher is a real API key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApiKey } from "../../src/auth/authenticator.js";
import type { Grant } from "../../src/auth/principal.js";
import { signToken as token, startAuthGateway } from "../support/auth-gateway.js";
import type { TestGateway } from "../support/gateway.js";
import { client } from "../support/http.js";
import { until } from "../support/wait.js";
import { uid, WsClient, wsUrl, type Kind, type MsgOf } from "../support/ws-client.js";

const FRAMES_PER_SECOND = 20;
const publisherKey = newApiKey();

const ORDERS: Grant[] = [{ streams: ["orders"], actions: ["subscribe"] }];
const METRICS: Grant[] = [{ streams: ["metrics"], actions: ["subscribe"] }];
const ORDERS_AND_METRICS: Grant[] = [{ streams: ["orders", "metrics"], actions: ["subscribe"] }];

let gw: TestGateway;

beforeAll(async () => {
  gw = await startAuthGateway(
    [{ name: "backend", sha256: publisherKey.sha256, grants: [{ streams: ["orders", "metrics"], actions: ["publish", "subscribe"] }] }],
    {},
    { STREAMGATE_WS_FRAMES_PER_SECOND: String(FRAMES_PER_SECOND) },
  );
});
afterAll(async () => {
  await gw?.close();
});

const asPublisher = { authorization: `Bearer ${publisherKey.key}` };

/** Publishes a batch of orders, alternating keys ord-17 and ord-18; the offsets stored, by key. */
async function publishOrders(count: number): Promise<{ offset: number; key: string }[]> {
  const events = Array.from({ length: count }, (_, i) => ({ type: "demo.orders.v1.OrderShipped", key: i % 2 ? "ord-18" : "ord-17", data: { orderId: `o${i}` } }));
  const res = await client(gw.url).postJson("/v1/streams/orders/events:batch", { events }, asPublisher);
  expect(res.status, res.text).toBe(201);
  return (res.body.results as { offset: number }[]).map((r, i) => ({ offset: r.offset, key: events[i]!.key }));
}

async function publishMetric(): Promise<number> {
  const res = await client(gw.url).postJson("/v1/streams/metrics/events", { data: { name: "cpu", value: 1 } }, asPublisher);
  expect(res.status, res.text).toBe(201);
  return res.body.offset as number;
}

/** Opens a connection with no credential and authenticates it with its first frame. */
async function authenticatedByFrame(grants: Grant[], kind: Kind = "json"): Promise<WsClient> {
  const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), kind);
  await auth(ws, (await token(grants)).token);
  return ws;
}

async function auth(ws: WsClient, credential: string): Promise<MsgOf<"authed">> {
  const ref = uid("auth");
  ws.send({ op: "auth", ref, token: credential });
  const answer = await ws.next((m) => (m.op === "authed" || m.op === "error") && "ref" in m && m.ref === ref, 5_000, `authed ${ref}`);
  if (answer.op !== "authed") throw new Error(`auth ${ref} failed: ${JSON.stringify(answer)}`);
  return answer;
}

const eventOffsets = (ws: WsClient, sub: string) =>
  ws.history.flatMap((r) => (r.msg.op === "event" && r.msg.sub === sub ? [r.msg.event.offset] : []));

describe("the auth frame (9.3)", () => {
  it("authenticates a connection that came without a credential; authed carries the token's exp", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    try {
      ws.send({ op: "subscribe", sub: "early", stream: "orders" });
      expect(await ws.nextOp("error", { sub: "early" })).toMatchObject({ code: "unauthenticated" });
      const { token: t, exp } = await token(ORDERS);
      expect(await auth(ws, t)).toEqual({ op: "authed", ref: expect.any(String), expires_at: exp });
      await ws.subscribe({ sub: "o", stream: "orders", from: "now" });
      const [stored] = await publishOrders(1);
      expect((await ws.events("o", 1))[0]!.offset).toBe(stored!.offset);
    } finally {
      await ws.close();
    }
  });

  it("an API key has no expiry: authed carries no expires_at", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    try {
      const authed = await auth(ws, publisherKey.key);
      expect(authed).toEqual({ op: "authed", ref: authed.ref });
    } finally {
      await ws.close();
    }
  });

  it("a bad token is refused with unauthenticated; the old credential holds and the connection stays usable", async () => {
    const ws = await authenticatedByFrame(ORDERS);
    try {
      const forged = await token(ORDERS_AND_METRICS, { secret: "another secret of the same length, but not ours" });
      ws.send({ op: "auth", ref: "bad", token: forged.token });
      const refused = await ws.nextOp("error", { ref: "bad" });
      expect(refused.code).toBe("unauthenticated");
      expect(refused.message).not.toContain(forged.token.slice(0, 30));
      await ws.ping();
      await ws.subscribe({ sub: "o", stream: "orders" });
      ws.send({ op: "subscribe", sub: "m", stream: "metrics" });
      expect(await ws.nextOp("error", { sub: "m" })).toMatchObject({ code: "permission_denied" });
      expect(ws.isOpen).toBe(true);
    } finally {
      await ws.close();
    }
  });

  it("auth frames count toward the frame rate limit", async () => {
    const ws = await authenticatedByFrame(ORDERS);
    try {
      const { token: t } = await token(ORDERS);
      const refs = Array.from({ length: FRAMES_PER_SECOND * 3 }, () => uid("flood"));
      for (const ref of refs) ws.send({ op: "auth", ref, token: t });
      const answers = await Promise.all(refs.map((ref) => ws.next((m) => (m.op === "authed" || m.op === "error") && "ref" in m && m.ref === ref)));
      const limited = answers.filter((a) => a.op === "error" && a.code === "rate_limited");
      expect(limited.length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.op === "authed").length).toBeGreaterThan(0);
    } finally {
      await ws.close();
    }
  });

  it("refreshing to a wider token keeps every subscription: across 1,200 events, none lost or repeated", async () => {
    const ws = await authenticatedByFrame(ORDERS);
    try {
      await ws.subscribe({ sub: "all", stream: "orders", from: "now" });
      await ws.subscribe({ sub: "k17", stream: "orders", from: "now", key: "ord-17" });
      const published: { offset: number; key: string }[] = [];
      let refreshed!: () => void;
      const refresh = new Promise<void>((resolve) => (refreshed = resolve));
      // Publishing goes on while the refresh is made, and its last batches come only after it.
      const publishing = (async () => {
        for (let batch = 0; batch < 12; batch++) {
          if (batch === 8) await refresh;
          published.push(...(await publishOrders(100)));
        }
      })();
      await until(() => eventOffsets(ws, "all").length >= 200, "the first events to arrive", 20_000);
      await auth(ws, (await token(ORDERS_AND_METRICS)).token);
      refreshed();
      await ws.subscribe({ sub: "m", stream: "metrics", from: "now" });
      await publishing;
      await until(() => eventOffsets(ws, "all").length >= 1_200 && eventOffsets(ws, "k17").length >= 600, "every event on both subscriptions", 30_000, () =>
        `all: ${eventOffsets(ws, "all").length}, k17: ${eventOffsets(ws, "k17").length}`,
      );
      const first = published[0]!.offset;
      expect(eventOffsets(ws, "all")).toEqual(Array.from({ length: 1_200 }, (_, i) => first + i));
      expect(eventOffsets(ws, "k17")).toEqual(published.filter((p) => p.key === "ord-17").map((p) => p.offset));
      expect(ws.history.some((r) => r.msg.op === "unsubscribed")).toBe(false);
      const metric = await publishMetric();
      expect((await ws.events("m", 1))[0]!.offset).toBe(metric);
    } finally {
      await ws.close();
    }
  });

  it("refreshing to a narrower token ends the subscription it forbids with permission_denied and keeps the other", async () => {
    const ws = await authenticatedByFrame(ORDERS_AND_METRICS);
    try {
      await ws.subscribe({ sub: "o", stream: "orders", from: "now" });
      await ws.subscribe({ sub: "m", stream: "metrics", from: "now" });
      await auth(ws, (await token(METRICS)).token);
      expect(await ws.nextOp("unsubscribed", { sub: "o" })).toEqual({ op: "unsubscribed", sub: "o", reason: "permission_denied" });
      const ordersBefore = eventOffsets(ws, "o").length;
      await publishOrders(2);
      const metric = await publishMetric();
      expect((await ws.events("m", 1))[0]!.offset).toBe(metric);
      // The metric was published after the orders, and the socket is ordered: no order event came for "o".
      expect(eventOffsets(ws, "o").length).toBe(ordersBefore);
      ws.send({ op: "subscribe", sub: "o2", stream: "orders" });
      expect(await ws.nextOp("error", { sub: "o2" })).toMatchObject({ code: "permission_denied" });
    } finally {
      await ws.close();
    }
  });

  it("the proto subprotocol: auth and authed round-trip", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "proto");
    try {
      const { token: t, exp } = await token(ORDERS);
      ws.send({ op: "auth", ref: "p1", token: t });
      const received = await ws.nextReceived((m) => m.op === "authed" || m.op === "error");
      expect(received.binary).toBe(true);
      expect(received.msg).toEqual({ op: "authed", ref: "p1", expires_at: exp });
      await ws.subscribe({ sub: "o", stream: "orders" });
    } finally {
      await ws.close();
    }
  });
});

describe("expiry and refresh (9.3)", () => {
  it("`expiring` comes 30 s before exp; after a refresh, the old exp passes without a close", async () => {
    const short = await token(ORDERS, { ttlSeconds: 32 });
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: { authorization: `Bearer ${short.token}` } });
    try {
      await ws.subscribe({ sub: "o", stream: "orders", from: "now" });
      const expiring = await ws.nextOp("expiring", {}, 6_000);
      expect(expiring).toEqual({ op: "expiring", expires_at: short.exp });
      const arrivedAt = ws.history.find((r) => r.msg.op === "expiring")!.at;
      expect(short.exp * 1000 - arrivedAt).toBeGreaterThan(27_000);
      const fresh = await token(ORDERS);
      expect((await auth(ws, fresh.token)).expires_at).toBe(fresh.exp);
      // Waiting for the clock: the old credential's expiry must pass.
      await until(() => Date.now() > short.exp * 1000 + 1_500, "the old token's exp to pass", 40_000);
      const [stored] = await publishOrders(1);
      expect((await ws.events("o", 1))[0]!.offset).toBe(stored!.offset);
      await ws.ping();
      expect(ws.isOpen).toBe(true);
      expect(ws.history.filter((r) => r.msg.op === "error" || r.msg.op === "expiring").map((r) => r.msg)).toEqual([expiring]);
    } finally {
      await ws.close();
    }
  }, 50_000);
});
