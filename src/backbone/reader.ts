import { DeliverPolicy, type JetStreamClient, type JsMsg, type StoredMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
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

/** How long one pull waits: also how soon a vanished server is noticed. */
export const READ_EXPIRES_MS = 3_000;
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

/**
 * Reads stored events in offset order from a start, then live, through an ordered consumer:
 * nats.js recreates it from the last seen sequence after a reconnect or a missed heartbeat,
 * and offsets already yielded are dropped, so the sequence has no gap and no repeat.
 */
export async function* readStoredEvents(js: JetStreamClient, options: ReadOptions): AsyncGenerator<StoredEvent> {
  if (options.signal?.aborted) return;
  const consumer = await js.consumers.get(options.stream, {
    filter_subjects: options.filterSubject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: options.startOffset,
  });
  // Short expiries: a dead server is noticed within seconds, not the default 30.
  const max_messages = eventsWithin(READ_PREFETCH_BYTES, options.meanEventBytes, READ_PREFETCH_MAX_EVENTS);
  const messages = await consumer.consume({ max_messages, expires: READ_EXPIRES_MS });
  const stop = () => void messages.stop();
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  let last = 0;
  try {
    for await (const msg of messages) {
      if (msg.seq <= last) continue;
      last = msg.seq;
      yield toStoredEvent(options.stream, msg);
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    stop();
    // A stopped ordered consumer would otherwise linger on the server for minutes.
    void consumer.delete().catch(() => undefined);
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
