import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Webhook } from "standardwebhooks";
import { orders, type OrdersEvent, type OrdersEventInit } from "../../generated/streams/index.js";
import { OrderCancelled_Reason } from "../../generated/ts/demo/orders/v1/orders.js";
import { createClient, verifyWebhook, WebhookVerificationError, type Protocol } from "../../clients/src/index.js";
import { createClient as createJsonClient } from "../../clients/src/json.js";
import type { WebSocketConstructor } from "../../clients/src/ws.js";
import type { GapNotice } from "@streamgate/protocol/position";
import { createProducer } from "../../src/typed/producer.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { LiveRead } from "../support/live-read.js";
import { until } from "../support/wait.js";

const NodeWebSocket = WebSocket;
let gw: TestGateway;
const openSockets = new WeakMap<object, Set<import("node:net").Socket>>();
beforeAll(async () => {
  gw = await startTestGateway();
  const sockets = new Set<import("node:net").Socket>();
  openSockets.set(gw.gateway.app.server, sockets);
  gw.gateway.app.server.on("connection", (socket: import("node:net").Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
});
afterAll(async () => gw?.close());

const created = (i: number): OrdersEventInit => ({
  type: "demo.orders.v1.OrderCreated",
  data: {
    orderId: `tc-${i}`,
    items: [{ sku: "s", quantity: 4_294_967_295, unitPriceCents: -9_223_372_036_854_775_808n }],
    totalCents: 9_223_372_036_854_775_807n,
    currency: "€",
    createdAt: { seconds: 1_763_800_000n, nanos: 123_456_789 },
  },
});
const cancelled = (i: number): OrdersEventInit => ({
  type: "demo.orders.v1.OrderCancelled",
  data: { orderId: `tc-${i}`, reason: OrderCancelled_Reason.REASON_PAYMENT_FAILED, note: "ü\u{1F680}" },
});

/** Cuts every client connection, WebSockets included, the way a crashing proxy would. */
function dropEveryConnection(gateway: TestGateway): void {
  const { server } = gateway.gateway.app;
  server.closeAllConnections();
  // Upgraded sockets are no longer the HTTP server's to close.
  for (const socket of openSockets.get(server) ?? []) socket.destroy();
}

/**
 * Reads `count` events from a subscription opened with the given signal, then stops it; rejects
 * (failing the test) when they have not all come within timeoutMs or the subscription ended first.
 */
async function read(subscribe: (signal: AbortSignal) => AsyncIterable<OrdersEvent>, count: number, timeoutMs = 15_000): Promise<OrdersEvent[]> {
  const live = new LiveRead(subscribe);
  try {
    return (await live.waitFor(count, timeoutMs)).slice(0, count);
  } finally {
    await live.stop();
  }
}

// Both entry points: the protobuf one (@streamgate/client) and the JSON one (@streamgate/client/json).
const entries = [
  ["protobuf", createClient],
  ["json", createJsonClient],
] as const;
const reads = (["ws", "sse", "poll"] as const).flatMap((protocol) => entries.map(([codec, connect]) => [protocol, codec, connect] as const));

describe.each(reads)("subscribe over %s (%s entry)", (protocol: Protocol, codec, connect) => {
  it("yields typed events equal to what was published, from any position", async () => {
    const client = connect({ baseUrl: gw.url, WebSocket: NodeWebSocket });
    const events = [created(1), cancelled(2), created(3)];
    const first = (await client.publish(orders, events[0]!)).offset;
    await client.publish(orders, events[1]!, { via: "ws" });
    await client.publish(orders, events[2]!, { id: `tc-${protocol}-${codec}-3` });
    await client.close();

    const received = await read((signal) => client.subscribe(orders, { protocol, position: { from: first }, signal }), 3);
    expect(received.map((e) => e.offset)).toEqual([first, first + 1, first + 2]);
    for (const [i, event] of received.entries()) {
      expect(event.type).toBe(events[i]!.type);
      expect(event.data).toEqual(orders.events[event.type].codec.fromPartial(events[i]!.data as never));
      expect(event.key).toBe(`tc-${i + 1}`);
    }
    expect(received[2]!.id).toBe(`tc-${protocol}-${codec}-3`);
    const narrowed = received[0]!;
    expect(narrowed.type).toBe("demo.orders.v1.OrderCreated");
    expect(narrowed.type === "demo.orders.v1.OrderCreated" && narrowed.data.createdAt?.nanos).toBe(123_456_789);
  });

  it("reconnects after the server drops it and resumes without loss or repeats", async () => {
    const client = connect({ baseUrl: gw.url, WebSocket: NodeWebSocket });
    const start = (await client.publish(orders, created(10))).offset;
    const reconnects: string[] = [];
    const live = new LiveRead((signal) =>
      client.subscribe(orders, { protocol, position: { from: start }, onReconnect: (r) => reconnects.push(r.reason), signal }),
    );
    try {
      await live.waitFor(1);
      dropEveryConnection(gw);
      await until(() => reconnects.length > 0, "the client to notice the drop");
      // Published through the backbone: the client's own publish may pick a pooled socket the
      // drop just closed, which is not what this test is about.
      const producer = createProducer(gw.gateway.session.backbone.js, orders);
      for (let i = 11; i < 16; i++) await producer.publish(created(i));
      await live.waitFor(6, 15_000);
    } finally {
      await live.stop();
    }
    expect(live.items.map((e) => e.offset)).toEqual([start, start + 1, start + 2, start + 3, start + 4, start + 5]);
  });
});

describe("protocol fallback and notices", () => {
  it("falls back from a blocked WebSocket to SSE, keeping its position", async () => {
    const client = createClient({ baseUrl: gw.url, WebSocket: NodeWebSocket });
    const from = (await client.publish(orders, created(20))).offset;
    await client.publish(orders, created(21));
    const blocked = createClient({
      baseUrl: gw.url,
      WebSocket: class {
        constructor() {
          throw new Error("blocked by a proxy");
        }
      } as unknown as WebSocketConstructor,
    });
    const switches: string[] = [];
    const events = await read((signal) => blocked.subscribe(orders, { position: { from }, onReconnect: (r) => switches.push(r.protocol), signal }), 2);
    expect(events.map((e) => e.offset)).toEqual([from, from + 1]);
    expect(switches).toContain("sse");
  });

  it("surfaces gap notices", async () => {
    const client = createClient({ baseUrl: gw.url });
    await client.publish(orders, created(30));
    await gw.gateway.session.backbone.jsm.streams.purge("orders", { keep: 1 });
    const info = (await (await fetch(`${gw.url}/v1/streams/orders`)).json()) as { first_offset: number };
    const gaps: GapNotice[] = [];
    const [event] = await read((signal) => client.subscribe(orders, { protocol: "sse", position: { from: 1 }, onGap: (g) => gaps.push(g), signal }), 1);
    expect(gaps).toEqual([expect.objectContaining({ stream: "orders", requested: 1, first: info.first_offset })]);
    expect(event!.offset).toBe(info.first_offset);
  });
});

describe("verifyWebhook", () => {
  const secret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
  const envelope = {
    stream: "orders",
    offset: 7,
    id: "evt-7",
    type: "demo.orders.v1.OrderShipped",
    key: "o-7",
    time: "2026-11-22T10:00:00.000Z",
    data: { orderId: "o-7", carrier: "dhl" },
  };
  const signed = (body: string, at = new Date()) => ({
    body,
    headers: {
      "webhook-id": "evt-7",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign("evt-7", at, body),
    },
  });

  it("returns the typed event of a genuine delivery", () => {
    const event = verifyWebhook(orders, signed(JSON.stringify(envelope)), { secret });
    expect(event).toMatchObject({ type: "demo.orders.v1.OrderShipped", offset: 7, id: "evt-7", key: "o-7" });
    expect(event.type === "demo.orders.v1.OrderShipped" && event.data.carrier).toBe("dhl");
  });

  it("accepts either secret during a rotation", () => {
    const other = "whsec_" + Buffer.alloc(32, 9).toString("base64");
    expect(verifyWebhook(orders, signed(JSON.stringify(envelope)), { secret: [other, secret] }).id).toBe("evt-7");
  });

  it("rejects tampered, stale and unsigned deliveries", () => {
    const good = signed(JSON.stringify(envelope));
    const tampered = { ...good, body: good.body.replace("dhl", "ups") };
    expect(() => verifyWebhook(orders, tampered, { secret })).toThrow(WebhookVerificationError);
    const stale = signed(JSON.stringify(envelope), new Date(Date.now() - 10 * 60_000));
    expect(() => verifyWebhook(orders, stale, { secret })).toThrow(WebhookVerificationError);
    // Refused for its age alone: a genuine delivery signed 2 minutes ago passes with the
    // default tolerance (5 minutes) and is refused with a tolerance of 1 minute.
    const older = signed(JSON.stringify(envelope), new Date(Date.now() - 2 * 60_000));
    expect(verifyWebhook(orders, older, { secret }).id).toBe("evt-7");
    expect(() => verifyWebhook(orders, older, { secret, toleranceSeconds: 60 })).toThrow(WebhookVerificationError);
    const unsigned = { body: good.body, headers: { ...good.headers, "webhook-signature": "v1,AAAA" } };
    expect(() => verifyWebhook(orders, unsigned, { secret })).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(orders, good, { secret: "whsec_" + Buffer.alloc(32, 1).toString("base64") })).toThrow(
      WebhookVerificationError,
    );
  });
});
