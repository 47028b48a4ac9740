import { setTimeout as delay } from "node:timers/promises";
import type { PollBatch } from "@streamgate/protocol/codec";
import type { Envelope } from "@streamgate/protocol/envelope";
import { isTemporary } from "@streamgate/protocol/errors";
import { MAX_POLL_EVENTS, readSpecToQuery, type ReadSpec } from "@streamgate/protocol/read-spec";
import { GatewayError, GatewayUnreachableError, type GatewayClient } from "./gateway-client.js";

export interface PollRead {
  client: GatewayClient;
  stream: string;
  spec: ReadSpec;
  /** The stream's epoch as the read began: chained polls carry it, so a re-created stream is a gap, not an error. */
  epoch: string;
  /** Polls answer at once up to here; past it they wait for new events. */
  caughtUpAt: number;
  /** Past caughtUpAt, keep reading (and ride out a lost gateway) rather than end. */
  follow: boolean;
  signal: AbortSignal;
  /** A poll failed in a way that may pass; the next try follows after `retryMs`. */
  onRetry: (error: Error, retryMs: number) => void;
}

/** How long a poll at the live edge waits for an event. */
const LIVE_WAIT_S = 25;
const RETRY_MS = 1000;

/**
 * Chained polls: each asks from the last one's `next`, which counts offsets a filter passed
 * over too, so the read knows exactly how far it got even when nothing matched. Ends when the
 * signal aborts, or (not following) once past caughtUpAt.
 */
export async function* readPolls(read: PollRead): AsyncGenerator<PollBatch<Envelope>> {
  const { client, signal } = read;
  let spec = read.spec;
  let epoch = read.epoch;
  let next: number | undefined;
  while (!signal.aborted) {
    const live = next !== undefined && next > read.caughtUpAt;
    if (live && !read.follow) return;
    const query = readSpecToQuery(spec);
    // As many events as the gateway gives in one poll.
    query.set("max", String(MAX_POLL_EVENTS));
    query.set("wait", live ? String(LIVE_WAIT_S) : "0");
    let batch: PollBatch<Envelope>;
    try {
      batch = await client.get<PollBatch<Envelope>>(`/v1/streams/${encodeURIComponent(read.stream)}/poll`, { query, signal });
    } catch (err) {
      if (signal.aborted) return;
      if (!read.follow || next === undefined || !mayPass(err)) throw err;
      const retryMs = err instanceof GatewayError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : RETRY_MS;
      read.onRetry(err, retryMs);
      await delay(retryMs, undefined, { signal }).catch(() => undefined);
      continue;
    }
    if (batch.gap) epoch = batch.gap.epoch;
    next = batch.next;
    spec = { ...spec, position: { from: batch.next }, epoch };
    yield batch;
  }
}

function mayPass(err: unknown): err is Error {
  return err instanceof GatewayUnreachableError || (err instanceof GatewayError && isTemporary(err.code));
}
