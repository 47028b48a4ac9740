/**
 * A real browser (Debian's chromium, driven by playwright-core) reading GET
 * /v1/streams/{stream}/sse with its native EventSource from a page of another origin (CORS),
 * and resuming with Last-Event-ID by itself after the gateway drops its connection.
 */
import type { IncomingMessage } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { createProducer, type Producer } from "../../src/typed/producer.js";
import { launchChromium, startPageServer, type PageServer } from "../support/browser.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { envelopeProblems, publishOrders, type PublishedEvent } from "./support/published.js";

let gw: TestGateway;
let producer: Producer<typeof orders>;
let browser: Browser | undefined;
let pageA: SsePageServer | undefined;
let pageB: SsePageServer | undefined;
let pageOrigin: string;
/** Every request the gateway's HTTP server saw (observed, not intercepted). */
const gatewayRequests: { at: number; method: string; url: string; origin: string | undefined; lastEventId: string | undefined }[] = [];

beforeAll(async () => {
  gw = await startTestGateway();
  producer = createProducer(gw.gateway.session.backbone.js, orders);
  gw.gateway.app.server.on("request", (req: IncomingMessage) => {
    gatewayRequests.push({
      at: Date.now(),
      method: req.method ?? "",
      url: req.url ?? "",
      origin: req.headers.origin,
      lastEventId: req.headers["last-event-id"] as string | undefined,
    });
  });

  // The page lives on its own loopback server: another port is another origin.
  pageA = await startSsePageServer();
  pageB = await startSsePageServer();
  pageOrigin = pageA.origin;

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const page of [pageA, pageB]) if (page) await page.close();
  await gw?.close();
});

interface SsePageServer extends PageServer {
  /** The page's address: it opens an EventSource on sseUrl as soon as it loads. */
  pageFor(sseUrl: string): string;
}

/** A loopback server for the test page: GET /?sse=<url> answers a page that reads that SSE URL. */
async function startSsePageServer(): Promise<SsePageServer> {
  const pages = await startPageServer((url) => {
    const sse = url.searchParams.get("sse");
    if (url.pathname !== "/" || !sse) return undefined;
    return {
      body: `<!doctype html>
<html><head><meta charset="utf-8"><title>streamgate sse</title></head><body>
<script>
  window.received = [];
  window.gaps = [];
  window.opens = 0;
  window.errors = 0;
  const es = new EventSource(${JSON.stringify(sse).replace(/</g, "\\u003c")});
  es.onmessage = (e) => window.received.push({ lastEventId: e.lastEventId, data: e.data });
  es.onopen = () => window.opens++;
  es.onerror = () => window.errors++;
  es.addEventListener("gap", (e) => window.gaps.push(e.data));
  window.es = es;
</script>
</body></html>`,
    };
  });
  return { ...pages, pageFor: (sseUrl) => `${pages.origin}/?sse=${encodeURIComponent(sseUrl)}` };
}

interface PageState {
  received: { lastEventId: string; data: string }[];
  gaps: string[];
  opens: number;
  errors: number;
  readyState: number;
}

describe("chromium's EventSource, cross-origin", () => {
  it("receives every event exactly once, in order, across two server-side drops", async () => {
    const started = Date.now();
    const published: PublishedEvent[] = await publishOrders(producer, "b-before", 3);

    const context = await browser!.newContext();
    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    const state = () =>
      page.evaluate(() => {
        const w = window as unknown as PageState & { es: EventSource };
        return { received: w.received, gaps: w.gaps, opens: w.opens, errors: w.errors, readyState: w.es.readyState };
      });
    const waitForCount = async (n: number, what: string) => {
      try {
        await page.waitForFunction((count) => (window as unknown as PageState).received.length >= count, n, {
          timeout: 8_000,
          polling: 20,
        });
      } catch (err) {
        const s = await state();
        throw new Error(
          `the page did not get ${n} events (${what}): it has ids [${s.received.map((r) => r.lastEventId).join(",")}], ` +
            `opens ${s.opens}, errors ${s.errors}, readyState ${s.readyState}; console: ${consoleLines.join(" | ")}; ` +
            `gateway saw ${JSON.stringify(gatewayRequests.filter((r) => r.url.includes("/sse")))}`,
          { cause: err },
        );
      }
    };

    try {
      await page.goto(pageA!.pageFor(`${gw.url}/v1/streams/orders/sse?from=first`));
      await waitForCount(3, "replayed from=first");
      published.push(...(await publishOrders(producer, "b-live", 2)));
      await waitForCount(5, "live");

      const reconnectDelays: number[] = [];
      for (const round of [1, 2]) {
        const lastBefore = published[published.length - 1]!.offset;
        const sseBefore = gatewayRequests.filter((r) => r.method === "GET" && r.url.includes("/sse")).length;
        const droppedAt = Date.now();
        gw.gateway.app.server.closeAllConnections();
        // Published right after the drop: the browser waits its retry time before reconnecting.
        published.push(...(await publishOrders(producer, `b-gap${round}`, 4)));
        const publishedAt = Date.now();
        await waitForCount(published.length, `after drop ${round}`);
        const sse = gatewayRequests.filter((r) => r.method === "GET" && r.url.includes("/sse"));
        expect(sse.length).toBe(sseBefore + 1);
        const reconnect = sse[sse.length - 1]!;
        expect(reconnect.lastEventId).toBe(String(lastBefore));
        // The events above were stored while the browser was disconnected.
        expect(reconnect.at).toBeGreaterThan(publishedAt);
        reconnectDelays.push(reconnect.at - droppedAt);

        published.push(...(await publishOrders(producer, `b-after${round}`, 2)));
        await waitForCount(published.length, `live after drop ${round}`);
      }

      await new Promise((resolve) => setTimeout(resolve, 500));
      const s = await state();
      expect(s.received.map((r) => r.lastEventId)).toEqual(published.map((p) => String(p.offset)));
      expect(s.received.flatMap((r, i) => envelopeProblems(JSON.parse(r.data), published[i]!))).toEqual([]);
      expect(s.gaps).toEqual([]);
      expect(s.opens).toBe(3);

      // Cross-origin for real: the browser said where the page came from on every request.
      const sse = gatewayRequests.filter((r) => r.method === "GET" && r.url.includes("/sse"));
      expect(sse.map((r) => r.origin)).toEqual([pageOrigin, pageOrigin, pageOrigin]);
      expect(sse.map((r) => r.lastEventId)).toEqual([undefined, String(published[4]!.offset), String(published[10]!.offset)]);
      const preflights = gatewayRequests.filter((r) => r.method === "OPTIONS");
      console.log(
        `[browser] ${s.received.length} events over ${s.opens} connections, ${s.errors} error events, ` +
          `${preflights.length} CORS preflights, reconnected ${reconnectDelays.join(" ms, ")} ms after each drop; ` +
          `test body ${Date.now() - started} ms`,
      );
    } finally {
      await page.evaluate(() => (window as unknown as { es: EventSource }).es.close()).catch(() => undefined);
      await context.close();
    }
  });

  it("with STREAMGATE_CORS_ORIGINS set, streams to a listed origin and not to another", async () => {
    const restricted = await startTestGateway({ STREAMGATE_CORS_ORIGINS: pageA!.origin });
    const context = await browser!.newContext();
    try {
      const restrictedProducer = createProducer(restricted.gateway.session.backbone.js, orders);
      const [event] = await publishOrders(restrictedProducer, "cors", 1);
      const sseUrl = `${restricted.url}/v1/streams/orders/sse?from=first`;
      const [allowed, refused] = [await context.newPage(), await context.newPage()];
      await allowed.goto(pageA!.pageFor(sseUrl));
      await refused.goto(pageB!.pageFor(sseUrl));
      await allowed.waitForFunction(() => (window as unknown as PageState).received.length >= 1, undefined, { timeout: 8_000 });
      await refused.waitForFunction(() => (window as unknown as PageState).errors >= 1, undefined, { timeout: 8_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const got = (page: typeof allowed) =>
        page.evaluate(() => {
          const w = window as unknown as PageState & { es: EventSource };
          return { received: w.received, opens: w.opens, errors: w.errors, readyState: w.es.readyState };
        });
      const [a, r] = [await got(allowed), await got(refused)];
      expect(a.received.map((m) => m.lastEventId)).toEqual([String(event!.offset)]);
      expect(r.received).toEqual([]);
      expect(r.opens).toBe(0);
      console.log(`[browser] listed origin: ${a.received.length} event; other origin: ${r.errors} error events, readyState ${r.readyState}`);
    } finally {
      await context.close();
      await restricted.close();
    }
  });
});
