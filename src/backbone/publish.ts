import { randomUUID } from "node:crypto";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
import { eventSubject, HEADER_KEY, HEADER_TYPE } from "./subjects.js";
import { EVENT_ID_PATTERN, MAX_KEY_LENGTH } from "./stored-event.js";

export interface EventToStore {
  stream: string;
  type: string;
  key?: string | undefined;
  /** The idempotency key; generated when absent. */
  id?: string | undefined;
  data: Uint8Array;
}

export interface StoreResult {
  offset: number;
  id: string;
  /** The id was already stored within the duplicate window; offset is the first one. */
  duplicate: boolean;
}

export interface PublishRetryOptions {
  /** How long to keep retrying through a leader election or a reconnect. */
  retryForMs?: number;
}

export class InvalidEventError extends Error {
  readonly code = "invalid_argument";
}

/** JetStream did not take the event within the retry time; retrying later with the same id is safe. */
export class BackboneUnavailableError extends Error {
  readonly code = "unavailable";
  readonly retryAfter = 1;
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
  if (!EVENT_ID_PATTERN.test(id)) {
    throw new InvalidEventError(`event id must match ${EVENT_ID_PATTERN.source}`);
  }
  const key = event.key === "" ? undefined : event.key;
  if (key !== undefined && key.length > MAX_KEY_LENGTH) {
    throw new InvalidEventError(`event key is longer than ${MAX_KEY_LENGTH} characters`);
  }
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
      if (!isTransient(err)) throw err;
      if (Date.now() >= deadline) {
        throw new BackboneUnavailableError(`JetStream did not store the event: ${(err as Error).message}`, { cause: err });
      }
      await sleep(Math.min(1_000, 50 * 2 ** attempt));
    }
  }
}

const TRANSIENT_ERRORS = new Set([
  "TimeoutError",
  "NoRespondersError",
  "RequestError",
  "JetStreamNotEnabled",
  "ConnectionError",
]);

function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (TRANSIENT_ERRORS.has(err.name)) return true;
  return "status" in err && err.status === 503;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
