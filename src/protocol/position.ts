import type { StreamState } from "../backbone/stream-state.js";

/**
 * Where a read starts (PROTOCOL.md section 3): exactly one of from, since or last.
 * The same shape is used by the typed consumer, the HTTP query string and WebSocket frames.
 */
export type Position =
  | { from: number | "first" | "now" }
  /** An RFC 3339 string keeps nanoseconds, which a Date cannot. */
  | { since: Date | string }
  | { last: number };

export const MAX_LAST = 10_000;

/** Delivered instead of a silent skip when events asked for are gone or the epoch changed. */
export interface GapNotice {
  stream: string;
  requested: number;
  first: number;
  epoch: string;
}

export type ReadStart = { startSeq: number } | { startTime: Date | string };

export interface ResolvedPosition {
  start: ReadStart;
  gap?: GapNotice;
}

/** A position that cannot be served; the message carries the stream's current range. */
export class InvalidPositionError extends Error {
  readonly code = "invalid_argument";
  constructor(
    readonly problem: string,
    state?: StreamState,
  ) {
    super(state ? `${problem} (first_offset ${state.firstOffset}, last_offset ${state.lastOffset})` : problem);
    this.name = "InvalidPositionError";
  }
}

export function isOffset(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** Checks a position's values before the stream is even looked at. */
export function validatePosition(position: Position): void {
  const kinds = (["from", "since", "last"] as const).filter((k) => k in position);
  if (kinds.length !== 1) {
    throw new InvalidPositionError(`give exactly one of from, since and last, not ${kinds.join(" and ") || "none"}`);
  }
  if ("from" in position) {
    if (position.from === "first" || position.from === "now" || isOffset(position.from)) return;
    throw new InvalidPositionError(`from must be "first", "now" or an offset from 1 to 2^53-1`);
  }
  if ("since" in position) {
    const { since } = position;
    const valid = typeof since === "string" ? RFC3339.test(since) && !Number.isNaN(Date.parse(since)) : !Number.isNaN(since.getTime());
    if (valid) return;
    throw new InvalidPositionError(`since must be an RFC 3339 time, not "${String(since)}"`);
  }
  if (!Number.isInteger(position.last) || position.last < 1 || position.last > MAX_LAST) {
    throw new InvalidPositionError(`last must be an integer from 1 to ${MAX_LAST}`);
  }
}

/** Turns a position into the first stored event to read, against the stream as it is now. */
export function resolvePosition(position: Position, state: StreamState, epoch?: string): ResolvedPosition {
  validatePosition(position);
  const requested = "from" in position && typeof position.from === "number" ? position.from : undefined;

  if (epoch !== undefined && epoch !== state.epoch) {
    return fromOldest(state, requested ?? state.firstOffset);
  }
  if ("since" in position) return { start: { startTime: position.since } };
  if ("last" in position) {
    return { start: { startSeq: Math.max(state.firstOffset, state.lastOffset - position.last + 1) } };
  }
  if (position.from === "first") return { start: { startSeq: state.firstOffset } };
  if (position.from === "now") return { start: { startSeq: state.lastOffset + 1 } };
  if (position.from > state.lastOffset + 1) {
    throw new InvalidPositionError(`from=${position.from} is beyond the end of stream ${state.name}`, state);
  }
  if (position.from < state.firstOffset) return fromOldest(state, position.from);
  return { start: { startSeq: position.from } };
}

function fromOldest(state: StreamState, requested: number): ResolvedPosition {
  return {
    start: { startSeq: state.firstOffset },
    gap: { stream: state.name, requested, first: state.firstOffset, epoch: state.epoch },
  };
}

/** Position parameters as a client sends them (query, WebSocket frame, webhook body). */
export interface PositionFields {
  from?: number | "first" | "now" | undefined;
  since?: string | Date | undefined;
  last?: number | undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The one position the fields name (from=now when none), checked. */
export function positionFromFields(fields: PositionFields): Position {
  const given = (["from", "since", "last"] as const).filter((k) => fields[k] !== undefined);
  if (given.length > 1) throw new InvalidPositionError(`give at most one of from, since and last, not ${given.join(" and ")}`);
  let position: Position;
  if (fields.since !== undefined) position = { since: fields.since };
  else if (fields.last !== undefined) position = { last: fields.last };
  else position = { from: fields.from ?? "now" };
  validatePosition(position);
  return position;
}
