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
import { SseConnection } from "../support/sse-frames.js";
import { until } from "../support/wait.js";
import { envelopeProblems, publishOrders, type PublishedEvent } from "./support/published.js";

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
  /** Opens the SSE endpoint with fetch, reads until `count` events arrived, and closes it. */
  async function readRaw(path: string, count: number, headers: Record<string, string> = {}) {
    const sse = await SseConnection.open(gw.url + path, { headers });
    try {
      expect(sse.status).toBe(200);
      await sse.waitForEvents(count);
    } finally {
      await sse.close();
    }
    // Every message that carries data: events, and notices if the gateway sent any.
    return { sse, messages: sse.messages().filter((m) => m.data !== undefined) };
  }

  it("starts with a retry line, then sends id: <offset> and one-line data: <envelope>, with the SSE and CORS headers", async () => {
    const events = await publishOrders(producer, "wire", 3);
    const from = events[0]!.offset;
    const { sse, messages } = await readRaw(`/v1/streams/orders/sse?from=${from}`, 3, { Origin: "http://127.0.0.1:1" });

    expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(sse.headers.get("cache-control")).toContain("no-cache");
    expect(sse.headers.get("x-accel-buffering")).toBe("no");
    expect(sse.headers.get("access-control-allow-origin")).toMatch(/^(\*|http:\/\/127\.0\.0\.1:1)$/);

    expect(sse.raw.split(/\r\n|\r|\n/)[0]).toMatch(/^retry: ?\d+$/);
    const retry = Number(sse.messages()[0]!.retry);
    console.log(`[sse wire] retry: ${retry} ms`);
    expect(retry).toBeGreaterThanOrEqual(100);
    expect(retry).toBeLessThanOrEqual(5_000);

    // Each event is exactly an id line and one data line: no event field, no second data line.
    expect(messages.map((m) => m.fields.map(([name]) => name))).toEqual([
      ["id", "data"],
      ["id", "data"],
      ["id", "data"],
    ]);
    expect(messages.map((m) => m.id)).toEqual(events.map((e) => String(e.offset)));
    expect(messages.flatMap((m, i) => envelopeProblems(JSON.parse(m.data!), events[i]!))).toEqual([]);
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
