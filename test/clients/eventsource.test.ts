/**
 * A real SSE client (the `eventsource` npm package: the WHATWG EventSource for Node) against
 * GET /v1/streams/{stream}/sse: it receives envelopes with ids = offsets, and when the server
 * drops it, reconnects by itself with Last-Event-ID and loses or repeats nothing.
 */
import type { IncomingMessage } from "node:http";
import { EventSource, type FetchLike } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { createProducer, type Producer } from "../../src/typed/producer.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { until } from "../support/wait.js";
import { envelopeProblems, publishOrders, type PublishedEvent } from "./support/published.js";
import { SseParser, type SseMessage } from "./support/sse-parser.js";

let gw: TestGateway;
let producer: Producer<typeof orders>;
/** Every SSE request the gateway's HTTP server saw, in order (observed, not intercepted). */
const sseRequests: { at: number; url: string; lastEventId: string | undefined }[] = [];

beforeAll(async () => {
  gw = await startTestGateway();
  producer = createProducer(gw.gateway.session.backbone.js, orders);
  gw.gateway.app.server.on("request", (req: IncomingMessage) => {
    if (req.url?.includes("/sse")) {
      const header = req.headers["last-event-id"];
      sseRequests.push({ at: Date.now(), url: req.url, lastEventId: Array.isArray(header) ? header[0] : header });
    }
  });
});
afterAll(async () => gw?.close());

interface Received {
  lastEventId: string;
  data: string;
  at: number;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the eventsource npm client", () => {
  it("receives envelopes with ids = offsets, and resumes by itself with Last-Event-ID after two drops", async () => {
    const published: PublishedEvent[] = await publishOrders(producer, "before", 3);

    // The client's own fetch calls, seen through its `fetch` option: every (re)connect it decides
    // to make, with the Last-Event-ID it sends. A test can hold one back (gate) to publish events
    // while the client is provably disconnected; the client still does the reconnecting.
    const attempts: { at: number; lastEventId: string | undefined }[] = [];
    let gate: ReturnType<typeof deferred> | undefined;
    const recordingFetch: FetchLike = async (url, init) => {
      attempts.push({ at: Date.now(), lastEventId: init.headers["Last-Event-ID"] });
      if (gate) await gate.promise;
      return fetch(url, init as RequestInit);
    };

    const received: Received[] = [];
    const gaps: string[] = [];
    let opens = 0;
    let errors = 0;
    const es = new EventSource(`${gw.url}/v1/streams/orders/sse?from=first`, { fetch: recordingFetch });
    es.onmessage = (e: MessageEvent<string>) => received.push({ lastEventId: e.lastEventId, data: e.data, at: Date.now() });
    es.onopen = () => opens++;
    es.onerror = () => errors++;
    es.addEventListener("gap", (e: MessageEvent<string>) => gaps.push(e.data));

    const offsetsSoFar = () => received.map((r) => r.lastEventId).join(",");
    const waitForCount = (n: number, what: string) =>
      until(() => received.length >= n, `${n} events (${what})`, 10_000, () => `received ids [${offsetsSoFar()}], errors ${errors}, opens ${opens}`);

    try {
      await waitForCount(3, "replayed from=first");
      published.push(...(await publishOrders(producer, "live", 2)));
      await waitForCount(5, "live");
      expect(opens).toBe(1);

      const reconnectDelays: number[] = [];
      for (const round of [1, 2]) {
        const lastBefore = published[published.length - 1]!.offset;
        const attemptsBefore = attempts.length;
        gate = deferred();
        const droppedAt = Date.now();
        gw.gateway.app.server.closeAllConnections();

        // The client notices, waits its retry time, and tries again carrying the last offset.
        await until(() => attempts.length > attemptsBefore, `the client's reconnect attempt after drop ${round}`, 10_000);
        reconnectDelays.push(attempts[attemptsBefore]!.at - droppedAt);
        expect(attempts[attemptsBefore]!.lastEventId).toBe(String(lastBefore));
        expect(es.readyState).toBe(EventSource.CONNECTING);

        // Published while the client is disconnected (its reconnect request is held back).
        published.push(...(await publishOrders(producer, `gap${round}`, 4)));
        gate.resolve();
        gate = undefined;
        await waitForCount(published.length, `after drop ${round}`);

        // And live again on the new connection.
        published.push(...(await publishOrders(producer, `after${round}`, 2)));
        await waitForCount(published.length, `live after drop ${round}`);
      }

      // Nothing more trickles in (no duplicates after the fact).
      await new Promise((resolve) => setTimeout(resolve, 500));

      expect(received.map((r) => r.lastEventId)).toEqual(published.map((p) => String(p.offset)));
      expect(published.map((p) => p.offset)).toEqual(published.map((_, i) => published[0]!.offset + i));
      const problems = received.flatMap((r, i) => envelopeProblems(JSON.parse(r.data), published[i]!));
      expect(problems).toEqual([]);
      expect(gaps).toEqual([]);
      expect(opens).toBe(3);
      expect(errors).toBeGreaterThanOrEqual(2);

      // What the gateway itself saw: the first request without Last-Event-ID, then one per drop.
      const mine = sseRequests.filter((r) => r.url.includes("from=first"));
      expect(mine.map((r) => r.lastEventId)).toEqual([undefined, String(published[4]!.offset), String(published[10]!.offset)]);
      console.log(
        `[eventsource] ${received.length} events over 3 connections; reconnect attempt came ${reconnectDelays.join(" ms, ")} ms after each drop`,
      );
    } finally {
      es.close();
    }
  });
});

describe("the SSE wire format", () => {
  /** Opens the SSE endpoint with fetch and reads until `count` events arrived. */
  async function readRaw(path: string, count: number, headers: Record<string, string> = {}) {
    const controller = new AbortController();
    const res = await fetch(gw.url + path, { headers, signal: controller.signal });
    const parser = new SseParser();
    const messages: SseMessage[] = [];
    try {
      expect(res.status).toBe(200);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const deadline = setTimeout(() => controller.abort(), 10_000);
      try {
        while (messages.length < count) {
          const { value, done } = await reader.read();
          if (done) break;
          messages.push(...parser.push(value));
        }
      } finally {
        clearTimeout(deadline);
      }
    } finally {
      controller.abort();
    }
    return { res, parser, messages };
  }

  it("starts with a retry line, then sends id: <offset> and one-line data: <envelope>, with the SSE and CORS headers", async () => {
    const events = await publishOrders(producer, "wire", 3);
    const from = events[0]!.offset;
    const { res, parser, messages } = await readRaw(`/v1/streams/orders/sse?from=${from}`, 3, { Origin: "http://127.0.0.1:1" });

    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    expect(res.headers.get("access-control-allow-origin")).toMatch(/^(\*|http:\/\/127\.0\.0\.1:1)$/);

    expect(parser.firstLine).toMatch(/^retry: ?\d+$/);
    const retry = parser.retries[0]!;
    console.log(`[sse wire] retry: ${retry} ms`);
    expect(retry).toBeGreaterThanOrEqual(100);
    expect(retry).toBeLessThanOrEqual(5_000);

    expect(messages.map((m) => m.event)).toEqual([undefined, undefined, undefined]);
    expect(messages.map((m) => m.id)).toEqual(events.map((e) => String(e.offset)));
    expect(messages.every((m) => !m.data.includes("\n"))).toBe(true);
    expect(messages.flatMap((m, i) => envelopeProblems(JSON.parse(m.data), events[i]!))).toEqual([]);
  });

  it("resumes after the Last-Event-ID header or the lastEventId query, overriding the position", async () => {
    const events = await publishOrders(producer, "resume", 3);
    const after = events[0]!.offset;
    const byHeader = await readRaw(`/v1/streams/orders/sse?from=first`, 2, { "Last-Event-ID": String(after) });
    expect(byHeader.messages.map((m) => m.id)).toEqual([String(after + 1), String(after + 2)]);
    const byQuery = await readRaw(`/v1/streams/orders/sse?from=first&lastEventId=${after}`, 2);
    expect(byQuery.messages.map((m) => m.id)).toEqual([String(after + 1), String(after + 2)]);
  });
});
