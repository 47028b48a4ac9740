/**
 * What the fault workload records, as plain data: the checker (checker.ts) judges only this, so
 * it can be tested with crafted inputs as well as fed by real runs.
 */

/** One answer a client was given: an HTTP status, or a WebSocket error frame or close mapped onto one. */
export interface StatusSeen {
  status: number;
  /** The answer said when to come back (Retry-After, or the WebSocket `unavailable` code). */
  retryAfter: boolean;
  /** Date.now() when it came. */
  at: number;
  /** Where it came from, for the report (e.g. "poll", "ws close 1011"). */
  what: string;
}

/** An event stored by a publisher: the id it chose and the offset the gateway answered. */
export interface Published {
  id: string;
  offset: number;
  /** Date.now() of the first attempt. */
  firstTriedAt: number;
  /** Date.now() of the answer that stored it (an upper bound of when it was stored). */
  at: number;
  /** The answer said it was stored before (a retry whose earlier try had been stored). */
  duplicate: boolean;
}

export interface PublisherLog {
  published: Published[];
  /** Ids given up on: no success before the publisher's deadline. */
  abandoned: string[];
  statuses: StatusSeen[];
}

/** One event as a reader or receiver got it. */
export interface Arrival {
  offset: number;
  id: string;
  /** Date.now() when it arrived. */
  at: number;
  /** Webhooks: the gateway process that sent it, when the receiver could tell. */
  gatewayPid?: number;
}

export type ReaderKind = "ws" | "sse" | "poll";

export interface ReaderLog {
  name: string;
  kind: ReaderKind;
  /** Date.now() when it first connected. */
  startedAt: number;
  arrivals: Arrival[];
  /** Every answer that was not a plain success: refusals, 5xx, WebSocket error frames and closes. */
  statuses: StatusSeen[];
  /** Gap notices received: the gateway said events were skipped. */
  gaps: number;
  reconnects: number;
}

export interface WebhookLog {
  name: string;
  maxInFlight: number;
  timeoutMs: number;
  /** Date.now() when it was registered. */
  startedAt: number;
  /** The deliveries the receiver accepted (2xx), after checking their signature. */
  arrivals: Arrival[];
  /** Deliveries whose signature did not verify (refused, not in arrivals). */
  badSignatures: number;
  /** The webhook's own counts.delivered at the end, as its API showed it. */
  reportedDelivered?: number;
}

/** When a fault was under way: from its injection until what it broke was back. */
export interface FaultWindow {
  name: string;
  from: number;
  to: number;
}

/** Statuses a client must never see: every 5xx but the documented 503 with Retry-After. */
export function isServerError(seen: StatusSeen): boolean {
  return seen.status >= 500 && !(seen.status === 503 && seen.retryAfter);
}
