/**
 * The typed client against a real gateway with auth on (PROTOCOL.md section 9): getToken's
 * short-lived tokens (3 s) ride on every request, and each expiry (SSE `event: expired`, a
 * poll's 401, a WebSocket's error and 1008) makes the client ask for a fresh token and resume
 * right after the last event: across several expiries it yields exactly what was published, in
 * order, once. A token without the grant is a RequestRefusedError (403), not retried.
 */
import { setTimeout } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { orders, type OrdersEvent } from "../../generated/streams/index.js";
import { createClient, CredentialExpiredError, RequestRefusedError, type Protocol } from "../../clients/src/index.js";
import type { WebSocketConstructor } from "../../clients/src/ws.js";
import type { Grant } from "../../src/auth/principal.js";
import { newApiKey } from "../../src/auth/authenticator.js";
import { signToken, startAuthGateway } from "../support/auth-gateway.js";
import type { TestGateway } from "../support/gateway.js";

/** An API key granted publish on `orders`. */
const publisherKey = newApiKey();
const PUBLISHER = [{ name: "orders-backend", sha256: publisherKey.sha256, grants: [{ streams: ["orders"], actions: ["publish" as const] }] }];
import { LiveRead } from "../support/live-read.js";

const NodeWebSocket = WebSocket;
const READ_ORDERS: Grant[] = [{ streams: ["orders"], actions: ["subscribe"] }];
const READ_METRICS: Grant[] = [{ streams: ["metrics"], actions: ["subscribe"] }];
const EVENTS = 1_000;
const EXPIRIES = 3;

let gw: TestGateway;
beforeAll(async () => {
  // No leeway: a poll's token is refused right at its exp, as SSE and WebSocket end there.
  gw = await startAuthGateway(PUBLISHER, { allowedOrigins: [], auth: { clockSkewSeconds: 0 } });
});
afterAll(async () => gw?.close());

/** A client as a browser app or a Node service would make one, minting a token when asked. */
function readerClient(grants: Grant[], ttlSeconds: number, minted: { count: number }) {
  return createClient({
    baseUrl: gw.url,
    WebSocket: NodeWebSocket,
    // The `ws` package takes headers: the Authorization goes on the upgrade.
    webSocketOptions: {},
    getToken: async () => {
      minted.count++;
      return (await signToken(grants, { ttlSeconds })).token;
    },
  });
}

const publisher = () => createClient({ baseUrl: gw.url, getToken: () => publisherKey.key });
const shipped = (i: number) => ({ type: "demo.orders.v1.OrderShipped" as const, data: { orderId: `auth-${i}` } });

describe("a client with getToken (PROTOCOL.md 9.1, 9.3)", () => {
  it.each<Protocol>(["sse", "poll", "ws"])("%s: across several token expiries, every published offset exactly once, in order", async (protocol) => {
    const producer = publisher();
    const published = [(await producer.publish(orders, shipped(0))).offset];
    const minted = { count: 0 };
    const reasons: string[] = [];
    const reader = readerClient(READ_ORDERS, 3, minted);
    const live = new LiveRead<OrdersEvent>((signal) =>
      reader.subscribe(orders, {
        protocol,
        position: { from: published[0]! },
        signal,
        onReconnect: ({ protocol: now, reason }) => reasons.push(`${now}: ${reason}`),
      }),
    );
    try {
      // Publishing goes on until the reader has been through several expiries (each mints a
      // token), so the events straddle them: some are stored while the reader is between tokens.
      const deadline = Date.now() + 40_000;
      while (published.length < EVENTS || minted.count <= EXPIRIES) {
        if (Date.now() > deadline) throw new Error(`after ${published.length} publishes (${live.items.length} read), only ${minted.count} tokens minted: ${reasons.join("; ")}`);
        if (live.ended) throw new Error(`the read ended: ${String(live.failure)}`);
        published.push((await producer.publish(orders, shipped(published.length))).offset);
        // Paced below the credential's 1,000 publishes per second, which a loop of awaited
        // publishes can outrun: the limit is not what this test is about.
        if (published.length % 100 === 0) await setTimeout(150);
      }
      await live.waitFor(published.length, 20_000);
    } finally {
      await live.stop();
      await reader.close();
    }
    expect(live.failure).toBeUndefined();
    expect(live.items.map((event) => event.offset)).toEqual(published);
    expect(live.items.every((event, i) => event.type === "demo.orders.v1.OrderShipped" && event.data.orderId === `auth-${i}`)).toBe(true);
    // Each new token came from an expiry, and each expiry reconnected at once, protocol kept.
    expect(reasons.length).toBeGreaterThanOrEqual(EXPIRIES);
    expect(reasons.every((reason) => reason.startsWith(`${protocol}: `))).toBe(true);
    expect(minted.count).toBe(reasons.length + 1);
  });

  it.each<Protocol>(["sse", "poll", "ws"])("%s: a token without the grant is a RequestRefusedError (403), asked for once", async (protocol) => {
    const minted = { count: 0 };
    const reader = readerClient(READ_METRICS, 600, minted);
    try {
      const error = await reader
        .subscribe(orders, { protocol, position: { from: 1 } })
        .next()
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(error).toBeInstanceOf(RequestRefusedError);
      expect(error).toMatchObject({ status: 403, code: "permission_denied" });
      expect(error).not.toBeInstanceOf(CredentialExpiredError);
      expect(minted.count).toBe(1);
    } finally {
      await reader.close();
    }
  });

  it("publishing carries the token: the reader's is refused (403), the API key's is stored", async () => {
    const reader = readerClient(READ_ORDERS, 600, { count: 0 });
    await expect(reader.publish(orders, shipped(-1))).rejects.toMatchObject({ status: 403, code: "permission_denied" });
    await expect(reader.publish(orders, shipped(-1))).rejects.toBeInstanceOf(RequestRefusedError);
    const stored = await publisher().publish(orders, shipped(-1));
    expect(stored.offset).toBeGreaterThan(0);
  });
});
