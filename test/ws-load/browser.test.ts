/**
 * A real browser (Debian's chromium, driven by playwright-core) speaking the WebSocket JSON
 * subprotocol (PROTOCOL.md 5.3) from a page of another origin: it subscribes from=first,
 * publishes over the socket and gets the `published` ack and the event, and when the gateway
 * drops it, reconnects after 200 ms and resumes from its last offset + 1 (PROTOCOL.md 3:
 * "resuming from last seen + 1 loses nothing and repeats nothing"), while events are
 * published over HTTP and the typed producer in between.
 */
import type { Socket } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { createProducer, type Producer } from "../../src/typed/producer.js";
import { launchChromium, startPageServer, type PageServer } from "../support/browser.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { until } from "../support/wait.js";

let gw: TestGateway;
let producer: Producer<typeof orders>;
let browser: Browser | undefined;
let pageServer: PageServer | undefined;
let pageOrigin: string;
/** The TCP sockets of the gateway's WebSocket upgrades (its websocketServer lives inside a plugin). */
const upgraded = new Set<Socket>();

/** What the page keeps (window.st). */
interface PageState {
  protocol: string[];
  opens: number;
  /** Date.now() of each open. */
  openedAt: number[];
  subscribes: (number | "first")[];
  /** Every frame's op in arrival order, with the offset for events and acks. */
  frames: string[];
  events: { stream: string; offset: number; id: string; type: string; key?: string; time: string; data: Record<string, unknown> }[];
  acks: { ref: string; offset: number; id: string; duplicate: boolean }[];
  other: unknown[];
  closes: { code: number; wasClean: boolean; at: number }[];
}

beforeAll(async () => {
  gw = await startTestGateway();
  producer = createProducer(gw.gateway.session.backbone.js, orders);
  gw.gateway.app.server.on("upgrade", (_req, socket: Socket) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
  });
  const wsUrl = gw.url.replace("http://", "ws://") + "/v1/ws";

  const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>streamgate ws</title></head><body>
<script>
  const st = (window.st = { protocol: [], opens: 0, openedAt: [], subscribes: [], frames: [], events: [], acks: [], other: [], closes: [] });
  let last = 0;
  // The test holds reconnects while it stores events, so they are surely replayed, not live.
  let gate = Promise.resolve();
  window.holdReconnects = () => { gate = new Promise((release) => (window.releaseReconnects = release)); };
  function connect() {
    const ws = new WebSocket(${JSON.stringify(wsUrl)}, "streamgate.v1.json");
    window.ws = ws;
    ws.onopen = () => {
      st.opens++;
      st.openedAt.push(Date.now());
      st.protocol.push(ws.protocol);
      const from = last === 0 ? "first" : last + 1;
      st.subscribes.push(from);
      ws.send(JSON.stringify({ op: "subscribe", sub: "o", stream: "orders", from }));
    };
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      st.frames.push(f.op + (f.op === "event" ? ":" + f.event.offset : f.op === "published" ? ":" + f.offset : ""));
      if (f.op === "event") {
        st.events.push(f.event);
        last = f.event.offset;
      } else if (f.op === "published") st.acks.push(f);
      else if (f.op !== "subscribed") st.other.push(f);
    };
    ws.onclose = (e) => {
      st.closes.push({ code: e.code, wasClean: e.wasClean, at: Date.now() });
      void gate.then(() => setTimeout(connect, 200));
    };
  }
  window.publish = (ref, orderId) =>
    window.ws.send(JSON.stringify({
      op: "publish", ref, stream: "orders", type: "demo.orders.v1.OrderShipped", id: "evt-" + orderId,
      data: { orderId, carrier: "ups", trackingNumber: "1Z-" + orderId },
    }));
  connect();
</script>
</body></html>`;
  // Anything else (favicon.ico) gets an empty 204.
  pageServer = await startPageServer((url) => (url.pathname === "/" ? { body: page } : undefined), 204);
  pageOrigin = pageServer.origin;

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await pageServer?.close();
  await gw?.close();
});

/** offset → the event id and order id published there. */
type Published = Map<number, { id: string; orderId: string }>;

async function publishOverHttp(published: Published, orderId: string): Promise<void> {
  const id = `evt-${orderId}`;
  const res = await fetch(`${gw.url}/v1/streams/orders/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "demo.orders.v1.OrderShipped", id, data: { orderId, carrier: "ups", trackingNumber: `1Z-${orderId}` } }),
  });
  expect(res.status).toBe(201);
  const { offset } = (await res.json()) as { offset: number };
  published.set(offset, { id, orderId });
}

async function publishTyped(published: Published, orderId: string): Promise<void> {
  const id = `evt-${orderId}`;
  const { offset } = await producer.publish(
    { type: "demo.orders.v1.OrderShipped", data: { orderId, carrier: "ups", trackingNumber: `1Z-${orderId}` } },
    { id },
  );
  published.set(offset, { id, orderId });
}

describe("chromium's WebSocket, JSON subprotocol", () => {
  it("publishes and reads over one socket, and resumes from last + 1 after the gateway drops it", async () => {
    const started = Date.now();
    const published: Published = new Map();
    for (const n of [1, 2, 3]) await publishOverHttp(published, `before-${n}`);

    const context = await browser!.newContext();
    const page: Page = await context.newPage();
    const consoleLines: string[] = [];
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    const state = () => page.evaluate(() => (window as unknown as { st: PageState }).st);
    let last: PageState | undefined;
    const waitFor = async (what: string, condition: (s: PageState) => boolean) => {
      await until(() => last !== undefined && condition(last), what, 8_000, () =>
        `page: ${JSON.stringify({ ...last, events: last?.events.map((e) => e.offset) })}; console: ${consoleLines.join(" | ")}`,
      );
    };
    // The page's state, polled in the background (page.evaluate is too slow for until's 10 ms).
    const poller = setInterval(() => {
      void state().then(
        (s) => (last = s),
        () => undefined,
      );
    }, 25);
    const hasAll = (s: PageState) => s.events.length >= published.size;
    const holdReconnects = () => page.evaluate(() => (window as unknown as { holdReconnects: () => void }).holdReconnects());
    const releaseReconnects = () => page.evaluate(() => (window as unknown as { releaseReconnects: () => void }).releaseReconnects());

    try {
      await page.goto(pageOrigin + "/");
      await waitFor("the 3 events stored before, from=first", (s) => s.events.length >= 3);

      // Publish over the socket: the ack, and the event itself through the subscription.
      await page.evaluate(() => (window as unknown as { publish: (ref: string, orderId: string) => void }).publish("p1", "page-1"));
      await waitFor("the ack and the event of p1", (s) => s.acks.length === 1 && s.events.length >= 4);
      let s = last!;
      const ack = s.acks[0]!;
      expect(ack).toMatchObject({ ref: "p1", id: "evt-page-1", duplicate: false });
      published.set(ack.offset, { id: "evt-page-1", orderId: "page-1" });
      const ackFirst = s.frames.indexOf(`published:${ack.offset}`) < s.frames.indexOf(`event:${ack.offset}`);

      // Drop 1: the gateway's side of every WebSocket is destroyed (what ws's terminate() does:
      // no close frame). Events are stored while the page holds its reconnect, over HTTP and
      // through the typed producer.
      const drops: { how: string; lastBefore: number; storedAt: number }[] = [];
      drops.push({ how: "destroy()", lastBefore: s.events[s.events.length - 1]!.offset, storedAt: 0 });
      expect(upgraded.size).toBe(1);
      await holdReconnects();
      for (const socket of upgraded) socket.destroy();
      for (const n of [1, 2, 3]) await publishOverHttp(published, `drop1-http-${n}`);
      for (const n of [1, 2]) await publishTyped(published, `drop1-typed-${n}`);
      drops[0]!.storedAt = Date.now();
      await releaseReconnects();
      await waitFor("everything after drop 1", (st) => st.opens === 2 && hasAll(st));

      // Live again: publish over the new socket.
      await page.evaluate(() => (window as unknown as { publish: (ref: string, orderId: string) => void }).publish("p2", "page-2"));
      await waitFor("the ack of p2", (st) => st.acks.length === 2);
      published.set(last!.acks[1]!.offset, { id: "evt-page-2", orderId: "page-2" });
      await waitFor("the event of p2", hasAll);

      // Drop 2: a TCP reset. (server.closeAllConnections() would not do: an upgraded socket is
      // no longer the HTTP server's connection, and it stays open.)
      s = last!;
      drops.push({ how: "resetAndDestroy()", lastBefore: s.events[s.events.length - 1]!.offset, storedAt: 0 });
      expect(upgraded.size).toBe(1);
      await holdReconnects();
      for (const socket of upgraded) socket.resetAndDestroy();
      for (const n of [1, 2, 3]) await publishTyped(published, `drop2-typed-${n}`);
      for (const n of [1, 2]) await publishOverHttp(published, `drop2-http-${n}`);
      drops[1]!.storedAt = Date.now();
      await releaseReconnects();
      await waitFor("everything after drop 2", (st) => st.opens === 3 && hasAll(st));

      // Anything repeated would come now.
      await new Promise((resolve) => setTimeout(resolve, 500));
      s = await state();
      const offsets = [...published.keys()].sort((a, b) => a - b);
      console.log(
        `[ws browser] ${s.events.length} events over ${s.opens} connections (subscribes from ${s.subscribes.join(", ")}), ` +
          `closes ${JSON.stringify(s.closes.map((c) => c.code))}, reopened ${s.openedAt.slice(1).map((at, i) => at - s.closes[i]!.at).join(" and ")} ms after; ` +
          `own publish: ${ackFirst ? "ack before event" : "event before ack"}; ` +
          `test body ${Date.now() - started} ms`,
      );

      expect(s.protocol).toEqual(["streamgate.v1.json", "streamgate.v1.json", "streamgate.v1.json"]);
      expect(s.other).toEqual([]);
      expect(s.closes).toHaveLength(2);
      expect(s.subscribes).toEqual(["first", ...drops.map((d) => d.lastBefore + 1)]);
      // What was published in between was stored before the page came back: it was replayed.
      drops.forEach((d, i) => expect(s.openedAt[i + 1]).toBeGreaterThan(d.storedAt));
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i + 1));
      expect(s.events.map((e) => e.offset)).toEqual(offsets);
      for (const e of s.events) {
        const p = published.get(e.offset)!;
        expect(e).toMatchObject({
          stream: "orders",
          id: p.id,
          type: "demo.orders.v1.OrderShipped",
          key: p.orderId,
          data: { orderId: p.orderId, carrier: "ups", trackingNumber: `1Z-${p.orderId}` },
        });
        expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      }
    } finally {
      clearInterval(poller);
      await page.evaluate(() => (window as unknown as { ws: WebSocket }).ws.close()).catch(() => undefined);
      await context.close();
    }
  });
});
