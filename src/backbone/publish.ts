import { randomUUID } from "node:crypto";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { PubAck } from "@nats-io/jetstream";
import type { JetStreamPublish } from "./publish-queue.js";
import { eventSubject, HEADER_KEY, HEADER_TYPE } from "./subjects.js";
import { EVENT_ID_PATTERN, type PublishResult } from "@streamgate/protocol/publish";
import { ApiError } from "@streamgate/protocol/errors";
import { BackboneUnavailableError, isBackboneUnavailable } from "./errors.js";
import { keyProblem } from "./stored-event.js";

export interface EventToStore {
  stream: string;
  type: string;
  key?: string | undefined;
  /** The idempotency key; generated when absent. */
  id?: string | undefined;
  data: Uint8Array;
}

export type StoreResult = PublishResult;

export interface PublishRetryOptions {
  /** How long to keep retrying through a leader election or a reconnect (default PUBLISH_RETRY_MS). */
  retryForMs?: number;
  /** The server's max_payload (NatsConnection.info.max_payload). */
  maxPayload?: number;
}

/**
 * How long a publish is tried again, with the same message id, through a leader election or a
 * reconnect before it is answered unavailable: longer than nats-server takes to elect a stream
 * leader after its leader dies (up to 9 s in 2.9), short enough that a client is told in time.
 */
export const PUBLISH_RETRY_MS = 10_000;
/** The longest one try waits for its ack: within it, an ack arrives unless the leader is gone. */
const PUBLISH_TRY_MS = 5_000;
/** A try near the deadline still gets this long, so the last one is not cut to nothing. */
const PUBLISH_LAST_TRY_MS = 500;

/** nats-server's default max_payload. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export class InvalidEventError extends ApiError {
  constructor(
    readonly problem: string,
    /** The part of the event at fault. */
    readonly field: "id" | "key",
  ) {
    super("invalid_argument", `${field}: ${problem}`, [{ path: field, message: problem }]);
    this.name = "InvalidEventError";
  }
}

/** The event with its headers is more than the backbone takes in one message. */
export class EventTooLargeError extends ApiError {
  constructor(message: string) {
    super("payload_too_large", message);
    this.name = "EventTooLargeError";
  }
}

/** Headers and subject, generously: what an event costs on top of its data. */
const ENVELOPE_OVERHEAD_BYTES = 4 * 1024;

/**
 * Checks everything about an event that could make storing it fail, so a batch can be
 * refused whole before any of it is stored. maxPayload is the server's max_payload.
 */
export function checkEvent(event: EventToStore, maxPayload = DEFAULT_MAX_PAYLOAD): void {
  if (event.id !== undefined && !EVENT_ID_PATTERN.test(event.id)) {
    throw new InvalidEventError(`event id must match ${EVENT_ID_PATTERN.source}`, "id");
  }
  const problem = event.key === undefined || event.key === "" ? undefined : keyProblem(event.key);
  if (problem) throw new InvalidEventError(problem, "key");
  if (event.data.byteLength + ENVELOPE_OVERHEAD_BYTES > maxPayload) {
    throw new EventTooLargeError(
      `the event's data is ${event.data.byteLength} bytes; the backbone takes at most ${maxPayload - ENVELOPE_OVERHEAD_BYTES}`,
    );
  }
}

/**
 * Stores one event. Transient failures (a leader election answering 503, a reconnect, a
 * timeout) are retried with the same msgID until retryForMs, so a retry never stores twice.
 */
export async function storeEvent(js: JetStreamPublish, event: EventToStore, options: PublishRetryOptions = {}): Promise<StoreResult> {
  const [result] = await storeEvents(js, [event], options);
  return result!;
}

/**
 * Stores events in their order, pipelined: every publish is sent before the first ack is
 * awaited (one connection keeps their order), and the results come in the events' order. An id
 * given twice is published once; its later copies are answered as duplicates of the first.
 * Publishes that fail transiently are sent again together, with their msgIDs, until retryForMs;
 * then the whole is BackboneUnavailableError, though the events acked before that are stored.
 */
export async function storeEvents(
  js: JetStreamPublish,
  events: readonly EventToStore[],
  options: PublishRetryOptions = {},
): Promise<StoreResult[]> {
  const messages = events.map((event) => toMessage(event, options.maxPayload));
  const firstWithId = new Map<string, number>();
  const copyOf = messages.map(({ id }, i) => {
    const first = firstWithId.get(id);
    if (first === undefined) firstWithId.set(id, i);
    return first;
  });
  const results: StoreResult[] = new Array(messages.length);
  let pending = [...firstWithId.values()];
  const deadline = Date.now() + (options.retryForMs ?? PUBLISH_RETRY_MS);
  for (let attempt = 0; ; attempt++) {
    // Every try ends by the deadline, so the whole call answers within it (give or take the last try).
    const timeout = Math.max(PUBLISH_LAST_TRY_MS, Math.min(PUBLISH_TRY_MS, deadline - Date.now()));
    const acks = await Promise.allSettled(pending.map((i) => publishMessage(js, messages[i]!, timeout)));
    const failed: number[] = [];
    let failure: unknown;
    acks.forEach((ack, j) => {
      const i = pending[j]!;
      if (ack.status === "fulfilled") {
        // A generated id is this call's alone: seen before, it was by an earlier try of ours.
        results[i] = { offset: ack.value.seq, id: messages[i]!.id, duplicate: ack.value.duplicate && events[i]!.id !== undefined };
      } else if (isBackboneUnavailable(ack.reason)) {
        failed.push(i);
        failure = ack.reason;
      } else {
        throw ack.reason;
      }
    });
    if (failed.length === 0) break;
    if (Date.now() >= deadline) {
      // Retrying later with the same ids is safe: JetStream stores an id once.
      throw new BackboneUnavailableError(`JetStream did not store ${failed.length} of ${events.length} events: ${(failure as Error).message}`, {
        cause: failure,
      });
    }
    await sleep(Math.min(1_000, 50 * 2 ** attempt, Math.max(0, deadline - Date.now())));
    pending = failed;
  }
  return copyOf.map((first, i) => (first === undefined ? results[i]! : { ...results[first]!, duplicate: true }));
}

interface Message {
  id: string;
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
}

function toMessage(event: EventToStore, maxPayload: number | undefined): Message {
  // A generated id (a UUID) is always a valid one: only the event's own needs checking.
  checkEvent(event, maxPayload);
  const id = event.id ?? randomUUID();
  const key = event.key === "" ? undefined : event.key;
  const headers = natsHeaders();
  headers.set(HEADER_TYPE, event.type);
  if (key !== undefined) headers.set(HEADER_KEY, key);
  return { id, subject: eventSubject(event.stream, event.type, key), data: event.data, headers };
}

function publishMessage(js: JetStreamPublish, { id, subject, data, headers }: Message, timeout: number): Promise<PubAck> {
  return js.publish(subject, data, { msgID: id, headers, timeout });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
