/**
 * Clients that keep reading and publishing the orders stream through faults, the way a
 * well-behaved client does (resume from the last offset, honour Retry-After, send a publish
 * again with the same id), recording every answer that was not a success and when each event
 * arrived, so a fault test can count losses, duplicates, disorder, 5xx and stalls.
 */
import WebSocket from "ws";
import { T } from "./events.js";
import type { Envelope } from "./envelope.js";
import { send } from "./http.js";
import { SseParser } from "./sse-frames.js";
import { sleep } from "./wait.js";

/** An answer that was not a success: what it was, and what the body said. */
export interface Refusal {
  at: number;
  status: number;
  retryAfter: string | null;
  body: string;
}

export interface ClientRecord {
  name: string;
  refusals: Refusal[];
}

export interface ReaderRecord extends ClientRecord {
  offsets: number[];
  ids: string[];
  /** Date.now() when each event arrived. */
  arrivals: number[];
  /** How often the reader had to start its read again (feed ended, socket closed, refused). */
  resumes: number;
}

export interface PublisherRecord extends ClientRecord {
  /** Event id → offset, for every publish answered 200/201. */
  stored: Map<string, number>;
  /** Milliseconds from the first try of an event to its success, for each event. */
  tookMs: number[];
}

export interface Load {
  readers: ReaderRecord[];
  publishers: PublisherRecord[];
  /** Stops publishing; readers go on until stop(). */
  stopPublishing(): Promise<void>;
  stop(): Promise<void>;
}

const STREAM = "/v1/streams/orders";
/** A well-behaved client without a Retry-After (a dropped socket) tries again this soon. */
const RECONNECT_MS = 200;
/** Each publisher stores about this many events per second: load, not a flood, on two cores. */
const PUBLISH_INTERVAL_MS = 20;

/**
 * Long-poll, short-poll, SSE and WebSocket readers from offset 1 and a publisher on each
 * gateway; with replayUpTo, also a long poll reading offsets 1..replayUpTo again and again: a
 * backlog stored before the load, so that it reads from JetStream (a catch-up), not the live window.
 */
export function startLoad(gateways: readonly string[], replayUpTo = 0): Load {
  let reading = true;
  let publishing = true;
  const readers: ReaderRecord[] = [];
  const publishers: PublisherRecord[] = [];
  const loops: Promise<void>[] = [];
  const publishLoops: Promise<void>[] = [];
  const sockets = new Set<WebSocket>();
  const controllers = new Set<AbortController>();
  gateways.forEach((base, g) => {
    const reader = (kind: string, run: (record: ReaderRecord) => Promise<void>) => {
      const record: ReaderRecord = { name: `${kind}@gw${g + 1}`, refusals: [], offsets: [], ids: [], arrivals: [], resumes: 0 };
      readers.push(record);
      loops.push(run(record));
    };
    reader("long-poll", (r) => pollLoop(base, r, 5, () => reading));
    reader("short-poll", (r) => pollLoop(base, r, 0, () => reading));
    reader("sse", (r) => sseLoop(base, r, () => reading, controllers));
    reader("ws", (r) => wsLoop(base, r, () => reading, sockets));
    if (replayUpTo > 0) reader("replay-poll", (r) => replayLoop(base, r, replayUpTo, () => reading));
    const publisher: PublisherRecord = { name: `publisher@gw${g + 1}`, refusals: [], stored: new Map(), tookMs: [] };
    publishers.push(publisher);
    publishLoops.push(publishLoop(base, publisher, `gw${g + 1}`, () => publishing));
  });
  const stopPublishing = async () => {
    publishing = false;
    await Promise.all(publishLoops);
  };
  return {
    readers,
    publishers,
    stopPublishing,
    async stop() {
      await stopPublishing();
      reading = false;
      for (const socket of sockets) socket.terminate();
      for (const controller of controllers) controller.abort();
      await Promise.all(loops);
    },
  };
}

function got(record: ReaderRecord, event: Envelope): void {
  record.offsets.push(event.offset);
  record.ids.push(event.id);
  record.arrivals.push(Date.now());
}

function next(record: ReaderRecord): number {
  return (record.offsets.at(-1) ?? 0) + 1;
}

/** How long a refused client waits: the Retry-After it was given, else a reconnect's pause. */
function pauseFor(retryAfter: string | null): Promise<void> {
  return sleep(retryAfter ? Number(retryAfter) * 1000 : RECONNECT_MS);
}

async function pollLoop(base: string, record: ReaderRecord, waitS: number, going: () => boolean): Promise<void> {
  while (going()) {
    const res = await send(base, { path: `${STREAM}/poll?from=${next(record)}&max=1000&wait=${waitS}` }, 30_000).catch((err: unknown) => err as Error);
    if (res instanceof Error) {
      record.refusals.push({ at: Date.now(), status: 0, retryAfter: null, body: res.message });
      await pauseFor(null);
      continue;
    }
    if (res.status !== 200) {
      record.refusals.push({ at: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after"), body: res.text.slice(0, 300) });
      await pauseFor(res.headers.get("retry-after"));
      continue;
    }
    for (const event of res.body.events as Envelope[]) got(record, event);
    // A short poll is asked again at a client's pace, not in a busy loop.
    if (waitS === 0) await sleep(100);
  }
}

/** Reads 1..upTo, then from 1 again: its offsets are the passes one after the other. */
async function replayLoop(base: string, record: ReaderRecord, upTo: number, going: () => boolean): Promise<void> {
  let from = 1;
  while (going()) {
    const res = await send(base, { path: `${STREAM}/poll?from=${from}&max=100&wait=1` }, 30_000).catch((err: unknown) => err as Error);
    if (res instanceof Error || res.status !== 200) {
      record.refusals.push(res instanceof Error ? { at: Date.now(), status: 0, retryAfter: null, body: res.message } : { at: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after"), body: res.text.slice(0, 300) });
      await pauseFor(res instanceof Error ? null : res.headers.get("retry-after"));
      continue;
    }
    for (const event of res.body.events as Envelope[]) if (event.offset <= upTo) got(record, event);
    from = res.body.next > upTo ? 1 : (res.body.next as number);
    if (from === 1) record.resumes++;
  }
}

async function sseLoop(base: string, record: ReaderRecord, going: () => boolean, controllers: Set<AbortController>): Promise<void> {
  while (going()) {
    const controller = new AbortController();
    controllers.add(controller);
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (record.offsets.length > 0) headers["last-event-id"] = String(record.offsets.at(-1));
      const res = await fetch(`${base}${STREAM}/sse?from=1`, { headers, signal: controller.signal });
      if (res.status !== 200) {
        record.refusals.push({ at: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.text()).slice(0, 300) });
        await pauseFor(res.headers.get("retry-after"));
        continue;
      }
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const body = res.body!.getReader();
      for (let chunk = await body.read(); !chunk.done; chunk = await body.read()) {
        for (const item of parser.push(decoder.decode(chunk.value, { stream: true }))) {
          if (item.kind === "message" && item.event === undefined && item.data !== undefined) got(record, JSON.parse(item.data) as Envelope);
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) record.refusals.push({ at: Date.now(), status: 0, retryAfter: null, body: String(err) });
    } finally {
      controllers.delete(controller);
    }
    // The response ended (the feed ended, or the gateway dropped it): resume, as EventSource does.
    if (going()) {
      record.resumes++;
      await pauseFor(null);
    }
  }
}

async function wsLoop(base: string, record: ReaderRecord, going: () => boolean, sockets: Set<WebSocket>): Promise<void> {
  while (going()) {
    const socket = new WebSocket(`${base.replace(/^http/, "ws")}${STREAM}/ws?from=${next(record)}`, ["streamgate.v1.json"]);
    sockets.add(socket);
    await new Promise<void>((resolve) => {
      socket.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk));
        res.on("end", () => {
          record.refusals.push({ at: Date.now(), status: res.statusCode ?? 0, retryAfter: String(res.headers["retry-after"] ?? "") || null, body: body.slice(0, 300) });
          socket.terminate();
        });
      });
      socket.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString("utf8")) as { op: string; event?: Envelope; code?: string; message?: string; reason?: string };
        if (message.op === "event") got(record, message.event!);
        else if (message.op === "error") {
          // The subscription broke: told in-band as the HTTP routes would answer it.
          const status = message.code === "unavailable" ? 503 : message.code === "internal" ? 500 : 400;
          record.refusals.push({ at: Date.now(), status, retryAfter: null, body: `${message.code}: ${message.message}` });
          socket.close();
        } else if (message.op === "unsubscribed") socket.close();
      });
      socket.on("error", () => undefined);
      socket.on("close", () => resolve());
    });
    sockets.delete(socket);
    if (going()) {
      record.resumes++;
      await pauseFor(null);
    }
  }
}

async function publishLoop(base: string, record: PublisherRecord, prefix: string, going: () => boolean): Promise<void> {
  for (let n = 1; going(); n++) {
    const id = `${prefix}-${n}`;
    const started = Date.now();
    // The same event is sent until it is stored, however long the fault lasts.
    for (;;) {
      const res = await send(base, { method: "POST", path: `${STREAM}/events`, json: { type: T.shipped, id, data: { orderId: id } } }, 60_000).catch(
        (err: unknown) => err as Error,
      );
      if (res instanceof Error) {
        record.refusals.push({ at: Date.now(), status: 0, retryAfter: null, body: res.message });
        await pauseFor(null);
        continue;
      }
      if (res.status === 200 || res.status === 201) {
        record.stored.set(id, res.body.offset as number);
        record.tookMs.push(Date.now() - started);
        break;
      }
      record.refusals.push({ at: Date.now(), status: res.status, retryAfter: res.headers.get("retry-after"), body: res.text.slice(0, 300) });
      await pauseFor(res.headers.get("retry-after"));
    }
    await sleep(PUBLISH_INTERVAL_MS);
  }
}
