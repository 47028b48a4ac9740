/**
 * PROTOCOL.md section 5.2, "answers ... after `wait` seconds with none", held while the gateway
 * collects garbage: in Node 20 a signal made with AbortSignal.any holds its sources weakly, so
 * a timeout among them can be collected and never fire, and a long poll on an idle stream then
 * never answers. The gateway runs as a child process with --expose-gc; ws-probe.ts, preloaded
 * into it, runs a full collection whenever the test asks, all through every wait.
 *
 * Also: a filtered long poll whose remaining events do not match still moves `next` to
 * last_offset + 1, from JetStream (catch-up) as from the live window.
 */
import { setTimeout as pause } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { T } from "../support/events.js";
import { client } from "../support/http.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { qs, type PollBody, type Query } from "./harness.js";

const WAIT_S = 1;
/** What an answer after `wait` may take beyond it: the bug it catches is an answer that never comes. */
const MARGIN_MS = 2_000;
/** How long the test waits for an answer before it calls it missing. */
const GIVE_UP_MS = WAIT_S * 1000 + 10_000;

let nats: TestNats;
let gateway: GatewayProcess;
beforeAll(async () => {
  nats = await startTestNats();
  gateway = await startGatewayProcess(nats.url, {}, { probes: { gc: true } });
});
afterAll(async () => {
  await gateway?.stop();
  await nats?.stop();
});

interface TimedAnswer {
  query: Query;
  /** undefined: no answer within GIVE_UP_MS. */
  status?: number;
  body?: PollBody;
  text: string;
  ms: number;
}

async function timedPoll(stream: string, query: Query): Promise<TimedAnswer> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), GIVE_UP_MS);
  try {
    const res = await fetch(`${gateway.url}/v1/streams/${stream}/poll?${qs(query)}`, { signal: controller.signal });
    const text = await res.text();
    return { query, status: res.status, body: JSON.parse(text) as PollBody, text, ms: performance.now() - started };
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    return { query, text: `no answer within ${GIVE_UP_MS} ms`, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Sends the polls at once and has the gateway collect garbage every few ms until all have answered. */
async function pollWhileCollecting(stream: string, queries: readonly Query[]): Promise<TimedAnswer[]> {
  let pending = queries.length;
  const answers = queries.map((query) => timedPoll(stream, query).finally(() => pending--));
  while (pending > 0) {
    await gateway.collectGarbage();
    await pause(20);
  }
  return Promise.all(answers);
}

/** An answer with no events, after wait seconds (not before, and not much after), with this next. */
function expectWaitedEmpty(answer: TimedAnswer, next: number): void {
  const where = `poll?${qs(answer.query)} -> ${answer.status} ${answer.text.slice(0, 300)} after ${Math.round(answer.ms)} ms`;
  expect(answer.status, where).toBe(200);
  expect(answer.body?.events, where).toEqual([]);
  expect(answer.body?.next, where).toBe(next);
  // Less a little: the gateway's timers count whole milliseconds.
  expect(answer.ms, where).toBeGreaterThanOrEqual(WAIT_S * 1000 - 10);
  expect(answer.ms, where).toBeLessThan(WAIT_S * 1000 + MARGIN_MS);
}

async function publish(events: readonly { type: string; data: Record<string, unknown> }[]): Promise<number[]> {
  const http = client(gateway.url);
  const offsets: number[] = [];
  for (const event of events) {
    const res = await http.postJson("/v1/streams/orders/events", event);
    expect(res.status, res.text).toBe(201);
    offsets.push(res.body.offset as number);
  }
  return offsets;
}

/** One OrderShipped (key `key`), then `tail` OrderCreated of the same key: the tail never matches types=OrderShipped. */
const shippedThenCreated = (key: string, tail: number) => [
  { type: T.shipped, data: { orderId: key, carrier: "ups" } },
  ...Array.from({ length: tail }, () => ({ type: T.created, data: { orderId: key, totalCents: "100" } })),
];

describe("a long poll with nothing to answer", () => {
  it(`answers after wait=${WAIT_S} on an idle stream, with garbage collected all along`, async () => {
    const answers = await pollWhileCollecting("metrics", Array.from({ length: 10 }, () => ({ from: "now", wait: WAIT_S })));
    for (const answer of answers) expectWaitedEmpty(answer, 1);
  });
});

describe("a filtered long poll whose remaining events do not match", () => {
  it("moves next to last_offset + 1, from JetStream and from the live window, with garbage collected all along", async () => {
    // Stored before anything reads orders: the first poll reads them from JetStream.
    const early = await publish(shippedThenCreated("early", 20));
    const shipped = { types: T.shipped, wait: WAIT_S };
    const [fromStore] = await pollWhileCollecting("orders", [{ from: "first", ...shipped }]);
    expect(fromStore!.status, fromStore!.text).toBe(200);
    expect(fromStore!.body!.events.map((e) => e.offset)).toEqual([early[0]]);
    expect(fromStore!.body!.next).toBe(early.at(-1)! + 1);

    // Stored after: the live feed has them in its window.
    const late = await publish(shippedThenCreated("late", 20));
    const last = late.at(-1)!;
    const [fromWindow, ...waited] = await pollWhileCollecting("orders", [
      { from: early.at(-1)! + 1, ...shipped },
      { from: late[1]!, ...shipped },
      { from: "first", key: "nobody", wait: WAIT_S },
      { from: late[0]!, types: T.cancelled, wait: WAIT_S },
    ]);
    expect(fromWindow!.status, fromWindow!.text).toBe(200);
    expect(fromWindow!.body!.events.map((e) => e.offset)).toEqual([late[0]]);
    expect(fromWindow!.body!.next).toBe(last + 1);
    expect(fromWindow!.body!.last_offset).toBe(last);
    for (const answer of waited) expectWaitedEmpty(answer, last + 1);
  });
});
