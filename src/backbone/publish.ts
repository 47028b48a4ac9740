import { randomUUID } from "node:crypto";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
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
  /** How long to keep retrying through a leader election or a reconnect. */
  retryForMs?: number;
  /** The server's max_payload (NatsConnection.info.max_payload). */
  maxPayload?: number;
}

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
export async function storeEvent(
  js: JetStreamClient,
  event: EventToStore,
  options: PublishRetryOptions = {},
): Promise<StoreResult> {
  const id = event.id ?? randomUUID();
  checkEvent({ ...event, id }, options.maxPayload);
  const key = event.key === "" ? undefined : event.key;
  const headers = natsHeaders();
  headers.set(HEADER_TYPE, event.type);
  if (key !== undefined) headers.set(HEADER_KEY, key);

  const subject = eventSubject(event.stream, event.type, key);
  const deadline = Date.now() + (options.retryForMs ?? 15_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const ack = await js.publish(subject, event.data, { msgID: id, headers, timeout: 5_000 });
      return { offset: ack.seq, id, duplicate: ack.duplicate };
    } catch (err) {
      if (!isBackboneUnavailable(err)) throw err;
      if (Date.now() >= deadline) {
        // Retrying later with the same id is safe: JetStream stores an id once.
        throw new BackboneUnavailableError(`JetStream did not store the event: ${(err as Error).message}`, { cause: err });
      }
      await sleep(Math.min(1_000, 50 * 2 ** attempt));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
