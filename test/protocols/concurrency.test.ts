/**
 * PROTOCOL.md section 3, "in offset order, with no gap and no duplicate within one connection
 * or poll sequence", under load: 50 SSE clients and 50 long-pollers join at random past
 * offsets (seeded) while ~2,000 events of mixed types and keys are published continuously.
 * A quarter of the clients read everything, the others through a type and/or key filter.
 * Every client must see exactly the matching offsets from where it started to the end, once
 * each, in order. Then: a paused SSE reader whose next events are purged must get a gap
 * notice, never a silent skip.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders, type OrdersEventInit } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { T } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { seededRandom } from "../support/random.js";
import { SseParser } from "../support/sse-frames.js";
import { sleep } from "../support/wait.js";
import { poll, sseUrl, type Envelope, type GapNoticeJson, type Query, type ReadItem } from "./harness.js";

const SSE_CLIENTS = 50;
const POLL_CLIENTS = 50;
const SEED_EVENTS = 200;
const LIVE_EVENTS = 2_000;
const CHUNK = 25;
const CHUNK_PAUSE_MS = 25;
const JOIN_WINDOW_MS = 2_500;
const DEADLINE_MS = 25_000;
/** Every tenth SSE client stops reading this long after its first events. */
const SLOW_PAUSE_MS = 1_500;

let gw: TestGateway;
beforeAll(async () => {
  // A hundred readers, all from 127.0.0.1: the per-address limits are for one real client.
  gw = await startTestGateway({ STREAMGATE_LIMIT_LONG_POLLS_PER_CREDENTIAL: "1000", STREAMGATE_LIMIT_CONNECTIONS_PER_CREDENTIAL: "1000" });
});
afterAll(async () => gw?.close());

interface Meta {
  type: string;
  key: string;
}

/** Event i of the run: types cycle by 3, keys by 5 (one of them needs encoding in a subject). */
function eventFor(i: number): OrdersEventInit {
  const key = i % 5 === 0 ? "k 0.x" : `k-${i % 5}`;
  switch (i % 3) {
    case 0:
      return { type: T.created, data: { orderId: key, totalCents: BigInt(i) } };
    case 1:
      return { type: T.shipped, data: { orderId: key, carrier: `c${i}` } };
    default:
      return { type: T.cancelled, data: { orderId: key, reason: 1 } };
  }
}

interface Filter {
  name: string;
  query: Query;
  matches(meta: Meta): boolean;
}

const FILTERS: Filter[] = [
  { name: "everything", query: {}, matches: () => true },
  { name: "types=OrderShipped", query: { types: [T.shipped] }, matches: (m) => m.type === T.shipped },
  { name: 'key="k 0.x"', query: { key: "k 0.x" }, matches: (m) => m.key === "k 0.x" },
  {
    name: "types=OrderCreated,OrderCancelled&key=k-2",
    query: { types: [T.created, T.cancelled], key: "k-2" },
    matches: (m) => (m.type === T.created || m.type === T.cancelled) && m.key === "k-2",
  },
];

interface ClientRun {
  name: string;
  filter: Filter;
  start: number;
  received: number[];
  problems: string[];
  done: boolean;
}

describe("many readers joining while events are published", () => {
  it(`${SSE_CLIENTS} SSE clients and ${POLL_CLIENTS} long-pollers each read exactly their events, once, in order`, async () => {
    const producer = createProducer(gw.gateway.session.backbone.js, orders);
    const metas = new Map<number, Meta>();
    let lastAcked = 0;
    const publishChunk = async (from: number, count: number) => {
      const results = await Promise.all(
        Array.from({ length: count }, async (_, j) => {
          const event = eventFor(from + j);
          const { offset } = await producer.publish(event);
          metas.set(offset, { type: event.type, key: (event.data as { orderId: string }).orderId });
          return offset;
        }),
      );
      for (const offset of results) lastAcked = Math.max(lastAcked, offset);
    };
    for (let i = 0; i < SEED_EVENTS; i += CHUNK) await publishChunk(i, CHUNK);
    expect(lastAcked).toBe(SEED_EVENTS);

    const random = seededRandom(20261122);
    const plans = Array.from({ length: SSE_CLIENTS + POLL_CLIENTS }, (_, i) => ({
      kind: i < SSE_CLIENTS ? ("sse" as const) : ("poll" as const),
      filter: FILTERS[i % FILTERS.length]!,
      delay: Math.floor(random() * JOIN_WINDOW_MS),
      offsetFraction: random(),
      max: 1 + Math.floor(random() * 300),
    }));

    let final: number | undefined;
    let openWhileRunning = 0;
    const finalListeners = new Set<() => void>();
    const controllers: AbortController[] = [];
    const runs: ClientRun[] = [];
    const started = performance.now();

    const publisher = (async () => {
      for (let i = 0; i < LIVE_EVENTS; i += CHUNK) {
        await publishChunk(SEED_EVENTS + i, Math.min(CHUNK, LIVE_EVENTS - i));
        await sleep(CHUNK_PAUSE_MS);
      }
      // Everyone has joined by now (the join window is shorter than the publishing).
      openWhileRunning = openConnections(await (await fetch(`${gw.url}/metrics`)).text());
      final = lastAcked;
      for (const listener of finalListeners) listener();
    })();

    /** The last offset this client has to receive, once the final offset is known. */
    const targetOf = (run: ClientRun): number | undefined => {
      for (let offset = final!; offset >= run.start; offset--) if (run.filter.matches(metas.get(offset)!)) return offset;
      return undefined;
    };

    async function sseClient(run: ClientRun, useHeader: boolean, pauseMs: number): Promise<void> {
      const controller = new AbortController();
      controllers.push(controller);
      const resume = useHeader && run.start > 1;
      const query = { ...(resume ? {} : { from: run.start }), ...run.filter.query };
      const headers: Record<string, string> = resume ? { "last-event-id": String(run.start - 1) } : {};
      const res = await fetch(sseUrl(gw, query), { headers, signal: controller.signal });
      if (res.status !== 200) {
        run.problems.push(`status ${res.status}: ${(await res.text()).slice(0, 200)}`);
        return;
      }
      const finished = () => {
        if (final === undefined) return false;
        const target = targetOf(run);
        return target === undefined || (run.received.at(-1) ?? 0) >= target;
      };
      const onFinal = () => {
        if (finished()) controller.abort();
      };
      finalListeners.add(onFinal);
      const parser = new SseParser();
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (const item of parser.push(decoder.decode(chunk, { stream: true }))) {
            if (item.kind !== "message" || item.data === undefined) continue;
            if (item.event !== undefined) {
              run.problems.push(`unexpected ${item.event} notice: ${item.data}`);
              continue;
            }
            const envelope = JSON.parse(item.data) as Envelope;
            if (item.id !== String(envelope.offset)) run.problems.push(`id ${item.id} for offset ${envelope.offset}`);
            run.received.push(envelope.offset);
          }
          if (finished()) break;
          if (pauseMs > 0 && run.received.length > 0) {
            await sleep(pauseMs);
            pauseMs = 0;
          }
        }
      } catch (err) {
        if (!controller.signal.aborted) run.problems.push(`stream failed: ${String(err)}`);
      } finally {
        finalListeners.delete(onFinal);
        controller.abort();
      }
      if (!finished()) run.problems.push(`stream ended after ${run.received.at(-1)}`);
    }

    async function pollClient(run: ClientRun, max: number): Promise<void> {
      let next = run.start;
      while (final === undefined || next <= final) {
        const { body } = await poll(gw, { from: next, ...run.filter.query, max, wait: 1 });
        if (body.gap !== undefined) run.problems.push(`unexpected gap ${JSON.stringify(body.gap)}`);
        if (body.events.length > max) run.problems.push(`${body.events.length} events > max ${max}`);
        run.received.push(...body.events.map((e) => e.offset));
        if (body.events.length > 0 && body.next <= body.events.at(-1)!.offset) {
          run.problems.push(`next ${body.next} after offset ${body.events.at(-1)!.offset}`);
        }
        if (body.next < next) run.problems.push(`next went back from ${next} to ${body.next}`);
        next = body.next;
        if (performance.now() - started > DEADLINE_MS) {
          run.problems.push(`gave up at ${next}`);
          return;
        }
      }
    }

    const clients = plans.map(async (plan, i) => {
      await sleep(plan.delay);
      const start = 1 + Math.floor(plan.offsetFraction * lastAcked);
      const run: ClientRun = { name: `${plan.kind}#${i} ${plan.filter.name}`, filter: plan.filter, start, received: [], problems: [], done: false };
      runs.push(run);
      if (plan.kind === "sse") await sseClient(run, i % 5 === 0, i % 10 === 3 ? SLOW_PAUSE_MS : 0);
      else await pollClient(run, plan.max);
      run.done = true;
    });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), DEADLINE_MS)));
    const outcome = await Promise.race([Promise.all([publisher, ...clients]).then(() => "done" as const), timeout]);
    clearTimeout(timer);
    for (const c of controllers) c.abort();
    const seconds = (performance.now() - started) / 1000;

    const pending = runs.filter((r) => !r.done).map((r) => `${r.name} from ${r.start} at ${r.received.at(-1)}`);
    expect(outcome, `still reading after ${DEADLINE_MS} ms (final ${final}): ${pending.slice(0, 10).join("; ")}`).toBe("done");
    expect(runs).toHaveLength(SSE_CLIENTS + POLL_CLIENTS);

    const problems = runs.flatMap((r) => r.problems.slice(0, 3).map((p) => `${r.name} (from ${r.start}): ${p}`));
    for (const run of runs) {
      const expected: number[] = [];
      for (let offset = run.start; offset <= final!; offset++) if (run.filter.matches(metas.get(offset)!)) expected.push(offset);
      const at = firstDifference(run.received, expected);
      if (at !== undefined) {
        problems.push(
          `${run.name} (from ${run.start}): ${run.received.length} events where ${expected.length} were due; ` +
            `first difference at #${at}: got ${run.received[at]} (after ${run.received[at - 1]}), expected ${expected[at]}`,
        );
      }
    }
    expect(problems).toEqual([]);

    // Every reader is gone: nothing stays open on the server (GET /metrics, section 7).
    expect(openWhileRunning, "streamgate_open_connections while the SSE readers were connected").toBeGreaterThanOrEqual(SSE_CLIENTS);
    await expect
      .poll(async () => openConnections(await (await fetch(`${gw.url}/metrics`)).text()), { timeout: 5_000, interval: 100 })
      .toBe(0);
    const deliveries = runs.reduce((n, r) => n + r.received.length, 0);
    console.log(
      `concurrency: ${SSE_CLIENTS} SSE + ${POLL_CLIENTS} long-poll clients (${FILTERS.length} filters), ${final} events ` +
        `(${LIVE_EVENTS} live), ${deliveries} deliveries, ${openWhileRunning} open connections at the peak, ${seconds.toFixed(1)} s`,
    );
  });
});

describe("a paused SSE reader whose next events are purged", () => {
  it("gets a gap notice, then the oldest retained event: never a silent skip", async () => {
    const producer = createProducer(gw.gateway.session.backbone.js, orders);
    const note = "n".repeat(4_000);
    const count = 4_000;
    const offsets: number[] = [];
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) => producer.publish({ type: T.cancelled, data: { orderId: `p-${i + j}`, note } })),
      );
      offsets.push(...batch.map((r) => r.offset));
    }
    offsets.sort((a, b) => a - b);
    const first = offsets[0]!;
    const last = offsets.at(-1)!;
    expect(last - first + 1).toBe(count);

    const controller = new AbortController();
    const items: ReadItem[] = [];
    const res = await fetch(sseUrl(gw, { from: first }), { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const lastOffset = () => [...items].reverse().find((i) => i.kind === "event")?.event.offset ?? 0;
    const pump = async (until: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!until()) {
        if (Date.now() > deadline) throw new Error(`timed out; last offset ${lastOffset()}, ${items.length} items`);
        const { done, value } = await reader.read();
        if (done) throw new Error(`the stream ended at ${lastOffset()}`);
        for (const item of parser.push(decoder.decode(value, { stream: true }))) {
          if (item.kind !== "message" || item.data === undefined) continue;
          if (item.event === "gap") items.push({ kind: "gap", gap: JSON.parse(item.data) as GapNoticeJson });
          else if (item.event === undefined) items.push({ kind: "event", event: JSON.parse(item.data) as Envelope });
        }
      }
    };
    try {
      await pump(() => items.length >= 10, 10_000);
      // Stop reading: the response backs up (about 16 MB are due), then retention removes
      // everything but the newest 5 events.
      await sleep(500);
      await gw.gateway.session.backbone.jsm.streams.purge("orders", { keep: 5 });
      const newFirst = last - 4;
      await pump(() => lastOffset() >= last, 20_000);

      let expected = first;
      const gaps: GapNoticeJson[] = [];
      const problems: string[] = [];
      for (const item of items) {
        if (item.kind === "gap") {
          gaps.push(item.gap);
          // requested: the offset the reader was due; first: where delivery goes on (at most the
          // new oldest retained offset; events the gateway still holds may come first).
          if (item.gap.requested !== expected || item.gap.first <= expected || item.gap.first > newFirst) {
            problems.push(`gap ${JSON.stringify(item.gap)} where requested ${expected} and first in ${expected + 1}..${newFirst} were due`);
          }
          expected = item.gap.first;
          continue;
        }
        if (item.event.offset !== expected && problems.length < 5) {
          problems.push(`offset ${item.event.offset} where ${expected} was due${item.event.offset > expected ? " (a silent skip)" : ""}`);
        }
        expected = item.event.offset + 1;
      }
      const runsSeen: string[] = [];
      let runStart: number | undefined;
      let prev: number | undefined;
      for (const item of items) {
        if (item.kind === "gap") {
          if (runStart !== undefined) runsSeen.push(`${runStart}..${prev}`);
          runsSeen.push(`gap(${item.gap.requested}->${item.gap.first})`);
          runStart = undefined;
          continue;
        }
        const o = item.event.offset;
        if (runStart === undefined) runStart = o;
        else if (o !== prev! + 1) {
          runsSeen.push(`${runStart}..${prev}`);
          runStart = o;
        }
        prev = o;
      }
      if (runStart !== undefined) runsSeen.push(`${runStart}..${prev}`);
      expect(problems, `delivered runs: ${runsSeen.join(", ")} (purge kept ${newFirst}..${last})`).toEqual([]);
      expect(expected).toBe(last + 1);
      const delivered = items.filter((i) => i.kind === "event").length;
      console.log(
        `paused reader: ${delivered} of ${count} events delivered, ` +
          (gaps.length ? `gap notice ${JSON.stringify(gaps[0])}` : "no gap notice (everything had been sent before the purge)"),
      );
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
  });
});

function firstDifference(a: readonly number[], b: readonly number[]): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return undefined;
}

/** The sum of streamgate_open_connections over its labels. */
function openConnections(metricsText: string): number {
  let sum = 0;
  for (const line of metricsText.split("\n")) {
    const match = /^streamgate_open_connections(?:\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match) sum += Number(match[1]);
  }
  return sum;
}
