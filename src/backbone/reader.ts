import { setTimeout as pause } from "node:timers/promises";
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JetStreamClient, type JsMsg, type StoredMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { isBackboneUnavailable, isConnectionEnding, ReadStalledError } from "./errors.js";
import { HEADER_ID, HEADER_KEY, HEADER_TYPE } from "./subjects.js";
import type { StoredEvent } from "./stored-event.js";

export interface ReadOptions {
  stream: string;
  startOffset: number;
  filterSubject: string;
  /** The stream's mean stored event size, which sizes the prefetch (see eventsWithin). */
  meanEventBytes: number;
  signal?: AbortSignal;
}

/** How long one pull waits. */
export const READ_EXPIRES_MS = 3_000;
/** How often the server sends a heartbeat on a pull that has nothing to deliver. */
export const READ_HEARTBEAT_MS = 1_000;
/**
 * A read that hears nothing (no event, no heartbeat) for three heartbeats has lost its
 * consumer: the node holding it died, or our connection did. It is made again from the next
 * offset, wherever JetStream places it. nats.js alone would ask the lost consumer for its info
 * until its node came back: readers sat 51 s after a leader kill (issue 13).
 */
export const READ_STALL_MS = 3 * READ_HEARTBEAT_MS;
/** How long a catch-up read tries to remake its consumer through an election before the client is told. */
export const READ_RETRY_MS = 10_000;
/** Pauses between attempts to make a consumer while the stream elects a leader: the last repeats. */
const REMAKE_PAUSES_MS = [100, 250, 500, 1_000];
/** About how much a live read may have prefetched. */
const READ_PREFETCH_BYTES = 8 * 1024 * 1024;
const READ_PREFETCH_MAX_EVENTS = 512;

/**
 * How many events of about meanEventBytes fit in `bytes`, at least one and at most `max`.
 * Reads are bounded by a count sized this way, not by max_bytes: nats.js counts a pull's bytes
 * otherwise than the server does, so its pulls shrink to a few KB and the server refuses them
 * (409 message size exceeds max_bytes), a round trip wasted each time: seen hundreds of times
 * in one run of the 100-connection WebSocket test, and never with a count.
 */
export function eventsWithin(bytes: number, meanEventBytes: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(bytes / Math.max(1, meanEventBytes))));
}

/** The mean size of a stream's stored events, or a guess while it holds none. */
export const meanEventBytes = (state: { events: number; bytes: number }): number => (state.events > 0 ? state.bytes / state.events : 1024);

/** An ordered consumer of the stream from offset `from` on, filtered on the server. */
export function orderedConsumer(js: JetStreamClient, stream: string, filterSubject: string, from: number): Promise<Consumer> {
  return js.consumers.get(stream, { filter_subjects: filterSubject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
}

/**
 * What make() answers, asked again while the backbone is unavailable (a leader election, a
 * reconnect) until the deadline; the last failure then, or the abort's reason once signal aborts.
 */
export async function whileUnavailable<T>(make: () => Promise<T>, until: { deadline?: number; signal?: AbortSignal }): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await make();
    } catch (err) {
      if (!isBackboneUnavailable(err) || isConnectionEnding(err) || Date.now() >= (until.deadline ?? Infinity)) throw err;
    }
    await pause(REMAKE_PAUSES_MS[Math.min(attempt, REMAKE_PAUSES_MS.length - 1)], undefined, { signal: until.signal });
  }
}

/**
 * Stops `messages` with a ReadStalledError once READ_STALL_MS pass without a message or a
 * heartbeat from the server; answers what ends the watch.
 */
export function watchForStall(stream: string, messages: ConsumerMessages): () => void {
  let heardAt = Date.now();
  let received = messages.getReceived();
  void (async () => {
    for await (const status of messages.status()) if (status.type === "heartbeat") heardAt = Date.now();
  })();
  const timer = setInterval(() => {
    const now = Date.now();
    if (messages.getReceived() !== received) {
      received = messages.getReceived();
      heardAt = now;
    } else if (now - heardAt >= READ_STALL_MS) messages.stop(new ReadStalledError(stream, now - heardAt));
  }, READ_HEARTBEAT_MS / 2);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Reads stored events in offset order from a start, then live, through an ordered consumer.
 * A consumer lost with its node or our connection (see READ_STALL_MS) is made again from the
 * next offset, for as long as the backbone is unavailable; offsets already yielded are dropped,
 * so the sequence has no gap and no repeat.
 */
export async function* readStoredEvents(js: JetStreamClient, options: ReadOptions): AsyncGenerator<StoredEvent> {
  const { stream, filterSubject, signal } = options;
  const max_messages = eventsWithin(READ_PREFETCH_BYTES, options.meanEventBytes, READ_PREFETCH_MAX_EVENTS);
  let next = options.startOffset;
  while (!signal?.aborted) {
    let consumer: Consumer;
    try {
      consumer = await whileUnavailable(() => orderedConsumer(js, stream, filterSubject, next), { signal });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const messages = await consumer.consume({ max_messages, expires: READ_EXPIRES_MS, idle_heartbeat: READ_HEARTBEAT_MS });
    const stop = () => void messages.stop();
    signal?.addEventListener("abort", stop, { once: true });
    if (signal?.aborted) stop();
    const unwatch = watchForStall(stream, messages);
    try {
      for await (const msg of messages) {
        if (msg.seq < next) continue;
        next = msg.seq + 1;
        yield toStoredEvent(stream, msg);
      }
    } catch (err) {
      if (!isBackboneUnavailable(err) || isConnectionEnding(err)) throw err;
    } finally {
      unwatch();
      signal?.removeEventListener("abort", stop);
      stop();
      // A stopped ordered consumer would otherwise linger on the server for minutes.
      void consumer.delete().catch(() => undefined);
    }
  }
}

export function toStoredEvent(stream: string, msg: JsMsg): StoredEvent {
  return storedEvent(stream, msg.seq, msg.headers, msg.data, new Date(Number(msg.timestampNanos / 1_000_000n)));
}

/** An event fetched by offset (direct get) rather than consumed. */
export function fromStoredMsg(stream: string, msg: StoredMsg): StoredEvent {
  return storedEvent(stream, msg.seq, msg.header, msg.data, msg.time);
}

function storedEvent(stream: string, offset: number, headers: MsgHdrs | undefined, data: Uint8Array, time: Date): StoredEvent {
  const key = headers?.get(HEADER_KEY);
  return {
    stream,
    offset,
    // Messages stored by other tools may lack our headers; they still get a stable id.
    id: headers?.get(HEADER_ID) || `seq-${offset}`,
    type: headers?.get(HEADER_TYPE) ?? "",
    key: key ? key : undefined,
    time,
    data,
  };
}
