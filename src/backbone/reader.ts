import { DeliverPolicy, type JetStreamClient, type JsMsg, type StoredMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { HEADER_ID, HEADER_KEY, HEADER_TYPE } from "./subjects.js";
import type { StoredEvent } from "./stored-event.js";

export interface ReadOptions {
  stream: string;
  startOffset: number;
  filterSubject: string;
  signal?: AbortSignal;
}

/** How long one pull waits: also how soon a vanished server is noticed. */
export const READ_EXPIRES_MS = 3_000;
const READ_PREFETCH_BYTES = 8 * 1024 * 1024;

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
  // Prefetch bounded by bytes, not count: 512 events near the 1 MiB limit would be 512 MiB.
  const messages = await consumer.consume({ max_bytes: READ_PREFETCH_BYTES, expires: READ_EXPIRES_MS });
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
