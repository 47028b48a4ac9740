/**
 * Browsers and auth (PROTOCOL.md 9.1, 9.4) in a real chromium: the `streamgate_token` cookie,
 * HttpOnly, set for the gateway's host, authenticates a page's EventSource (withCredentials) and
 * WebSocket when the page's origin is in allowedOrigins; a page of an origin not listed gets
 * neither (403 to the request and to the WebSocket upgrade), cookie or not. (The DNS-rebinding
 * Host check, which a browser page cannot exercise, is in test/auth/gateway-auth.test.ts.)
 */
import type { IncomingMessage } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Grant } from "../../src/auth/principal.js";
import { SUBPROTOCOLS } from "@streamgate/protocol/codec";
import { newApiKey } from "../../src/auth/authenticator.js";
import { signToken, startAuthGateway } from "../support/auth-gateway.js";
import type { TestGateway } from "../support/gateway.js";

/** An API key granted publish on `orders`. */
const publisherKey = newApiKey();
const PUBLISHER = [{ name: "orders-backend", sha256: publisherKey.sha256, grants: [{ streams: ["orders"], actions: ["publish" as const] }] }];
import { launchChromium, startPageServer, type PageServer } from "../support/browser.js";
import { client } from "../support/http.js";

const READ_ORDERS: Grant[] = [{ streams: ["orders"], actions: ["subscribe"] }];
const WAIT_MS = 10_000;

let gw: TestGateway;
let browser: Browser | undefined;
let listed: PageServer | undefined;
let unlisted: PageServer | undefined;
/** The Origin of every request and upgrade the gateway saw, observed, not intercepted. */
const seen: { url: string; upgrade: boolean; origin: string | undefined; cookie: boolean }[] = [];

/** A page that, once loaded, reads `orders` from ?from= over an EventSource and a WebSocket. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>streamgate auth</title></head><body>
<script>
  const params = new URLSearchParams(location.search);
  const gateway = params.get("gateway");
  const from = params.get("from");
  window.sse = { offsets: [], opens: 0, errors: 0 };
  window.ws = { offsets: [], frames: [], opened: false, closed: undefined, errors: 0 };
  const es = new EventSource(gateway + "/v1/streams/orders/sse?from=" + from, { withCredentials: true });
  es.onopen = () => window.sse.opens++;
  es.onmessage = (e) => window.sse.offsets.push(Number(e.lastEventId));
  es.onerror = () => { window.sse.errors++; window.sse.readyState = es.readyState; };
  const ws = new WebSocket(gateway.replace(/^http/, "ws") + "/v1/ws", ${JSON.stringify(SUBPROTOCOLS.json)});
  ws.onopen = () => {
    window.ws.opened = true;
    ws.send(JSON.stringify({ op: "subscribe", sub: "s", stream: "orders", from: Number(from) }));
  };
  ws.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    if (frame.op === "event") window.ws.offsets.push(frame.event.offset);
    else window.ws.frames.push(frame.op);
  };
  ws.onerror = () => window.ws.errors++;
  ws.onclose = (e) => (window.ws.closed = e.code);
</script>
</body></html>`;

interface PageState {
  sse: { offsets: number[]; opens: number; errors: number; readyState?: number };
  ws: { offsets: number[]; frames: string[]; opened: boolean; closed: number | undefined; errors: number };
}

beforeAll(async () => {
  const pages = () => startPageServer((url) => (url.pathname === "/" ? { body: PAGE } : undefined));
  listed = await pages();
  unlisted = await pages();
  gw = await startAuthGateway(PUBLISHER, { allowedOrigins: [listed.origin] });
  const observe = (req: IncomingMessage) =>
    seen.push({ url: req.url ?? "", upgrade: req.headers.upgrade !== undefined, origin: req.headers.origin, cookie: req.headers.cookie !== undefined });
  gw.gateway.app.server.on("request", observe);
  gw.gateway.app.server.on("upgrade", observe);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const pages of [listed, unlisted]) await pages?.close();
  await gw?.close();
});

const publish = async (n: number): Promise<number[]> => {
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await client(gw.url).postJson(
      "/v1/streams/orders/events",
      { type: "demo.orders.v1.OrderShipped", data: { orderId: `cookie-${i}` } },
      { authorization: `Bearer ${publisherKey.key}` },
    );
    if (res.status !== 201) throw new Error(`publish: ${res.status} ${res.text}`);
    offsets.push(res.body.offset as number);
  }
  return offsets;
};

/** A page of that origin, in its own browser context holding the gateway's HttpOnly cookie. */
async function openPage(pages: PageServer, from: number): Promise<Page> {
  const context = await browser!.newContext();
  await context.addCookies([{ name: "streamgate_token", value: (await signToken(READ_ORDERS)).token, url: gw.url, httpOnly: true, sameSite: "Lax" }]);
  const page = await context.newPage();
  await page.goto(`${pages.origin}/?gateway=${encodeURIComponent(gw.url)}&from=${from}`);
  return page;
}

async function waitFor(page: Page, what: string, condition: (state: PageState) => boolean): Promise<PageState> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const now = await page.evaluate(() => ({ sse: (window as unknown as PageState).sse, ws: (window as unknown as PageState).ws }));
    if (condition(now)) return now;
    if (Date.now() > deadline) throw new Error(`the page never had ${what}: ${JSON.stringify(now)}; the gateway saw ${JSON.stringify(seen)}`);
    await page.waitForTimeout(20);
  }
}

describe("the streamgate_token cookie in chromium (9.1, 9.4)", () => {
  it("a listed origin's EventSource (withCredentials) and WebSocket are authenticated by the cookie and receive every event", async () => {
    const offsets = await publish(3);
    const page = await openPage(listed!, offsets[0]!);
    try {
      await waitFor(page, "the replayed events on both", (s) => s.sse.offsets.length >= 3 && s.ws.offsets.length >= 3);
      offsets.push(...(await publish(2)));
      const done = await waitFor(page, "the live events on both", (s) => s.sse.offsets.length >= 5 && s.ws.offsets.length >= 5);
      expect(done.sse.offsets).toEqual(offsets);
      expect(done.ws.offsets).toEqual(offsets);
      expect(done.ws.frames).toEqual(["subscribed"]);
      expect(done.sse.errors).toBe(0);
      // The page could not read the cookie; the browser sent it with both.
      expect(await page.evaluate(() => document.cookie)).toBe("");
      const fromPage = seen.filter((r) => r.origin === listed!.origin);
      expect(fromPage.some((r) => r.upgrade && r.cookie)).toBe(true);
      expect(fromPage.some((r) => r.url.includes("/sse") && r.cookie)).toBe(true);
    } finally {
      await page.context().close();
    }
  });

  it("an unlisted origin's page gets nothing: its EventSource fails, its WebSocket upgrade is refused", async () => {
    const offsets = await publish(2);
    const page = await openPage(unlisted!, offsets[0]!);
    try {
      const refused = await waitFor(page, "both refused", (s) => s.sse.readyState === 2 && s.ws.closed !== undefined);
      expect(refused.ws.opened).toBe(false);
      expect(refused.ws.closed).toBe(1006);
      expect(refused.sse.opens).toBe(0);
      expect(refused.sse.offsets).toEqual([]);
      expect(refused.ws.offsets).toEqual([]);
      // The browser did try, cookie and all: the gateway refused.
      const fromPage = seen.filter((r) => r.origin === unlisted!.origin);
      expect(fromPage.some((r) => r.upgrade && r.cookie)).toBe(true);
      expect(fromPage.some((r) => r.url.includes("/sse") && r.cookie)).toBe(true);
    } finally {
      await page.context().close();
    }
  });

  it("the upgrade of an unlisted Origin is answered 403, even with a valid cookie, and its connection ended (seen from Node)", async () => {
    const cookie = `streamgate_token=${(await signToken(READ_ORDERS)).token}`;
    const socket = new WebSocket(`${gw.url.replace(/^http/, "ws")}/v1/ws`, SUBPROTOCOLS.json, { headers: { origin: unlisted!.origin, cookie } });
    const answer = await new Promise<{ status: number; connection: IncomingMessage["socket"] }>((resolve, reject) => {
      socket.on("open", () => reject(new Error("the upgrade of an unlisted origin was accepted")));
      socket.on("unexpected-response", (_req, res) => resolve({ status: res.statusCode ?? 0, connection: res.socket }));
      socket.on("error", reject);
    });
    expect(answer.status).toBe(403);
    // The gateway, not this client, closes the connection of the refused upgrade.
    const closed = await new Promise<boolean>((resolve) => {
      if (answer.connection.destroyed) return resolve(true);
      const timer = setTimeout(() => resolve(false), WAIT_MS);
      answer.connection.once("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    answer.connection.destroy();
    expect(closed, "the gateway ended the refused upgrade's connection").toBe(true);
  });
});
