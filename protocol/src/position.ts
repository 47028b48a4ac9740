import { ApiError } from "./errors.js";
import { rfc3339Problem } from "./time.js";

/**
 * Where a read starts (PROTOCOL.md section 3): exactly one of from, since or last. Every read
 * path (query string, WebSocket frames, webhook bodies, the typed consumer and client) turns
 * what it was given into this one type, checked, before anything else happens.
 */
export type Position =
  | { from: number | "first" | "now" }
  /** An RFC 3339 string keeps nanoseconds, which a Date cannot. */
  | { since: Date | string }
  | { last: number };

export const MAX_LAST = 10_000;
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** Delivered instead of a silent skip when events asked for are gone or the epoch changed. */
export interface GapNotice {
  stream: string;
  requested: number;
  first: number;
  epoch: string;
}

/** A gap notice as JSON: the SSE `gap` event's data, a poll's `gap`, a webhook's `lastGap`. */
export function gapJson(gap: GapNotice): GapNotice {
  return { stream: gap.stream, requested: gap.requested, first: gap.first, epoch: gap.epoch };
}

/** What a position is resolved against: the stream as it stands now. */
export interface StreamRange {
  name: string;
  firstOffset: number;
  lastOffset: number;
  epoch: string;
}

/** A position that cannot be served; once the stream is known the message carries its range. */
export class InvalidPositionError extends ApiError {
  constructor(
    readonly problem: string,
    range?: StreamRange,
  ) {
    super("invalid_argument", range ? `${problem} (first_offset ${range.firstOffset}, last_offset ${range.lastOffset})` : problem);
    this.name = "InvalidPositionError";
  }

  withRange(range: StreamRange): InvalidPositionError {
    return new InvalidPositionError(this.problem, range);
  }
}

function isOffset(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_OFFSET;
}

/** Position parameters as JSON carries them (WebSocket frames, webhook bodies). */
export interface PositionFields {
  from?: unknown;
  since?: unknown;
  last?: unknown;
}

/** The one position the fields name (from=now when none), checked. */
export function positionFromFields(fields: PositionFields): Position {
  const given = (["from", "since", "last"] as const).filter((k) => fields[k] !== undefined);
  if (given.length > 1) throw new InvalidPositionError(`give at most one of from, since and last, not ${given.join(" and ")}`);
  const position: Position =
    fields.since !== undefined
      ? { since: fields.since as string }
      : fields.last !== undefined
        ? { last: fields.last as number }
        : { from: (fields.from ?? "now") as number };
  return checkedPosition(position);
}

const DIGITS = /^\d{1,16}$/;

/** The position of a query string (every value a string), checked. */
export function positionFromQuery(get: (name: "from" | "since" | "last") => string | undefined): Position {
  const from = get("from");
  const last = get("last");
  const number = (name: string, text: string) => {
    if (!DIGITS.test(text)) throw new InvalidPositionError(`${name} must be a whole number, not "${text}"`);
    return Number(text);
  };
  return positionFromFields({
    from: from === undefined || from === "first" || from === "now" ? from : number("from", from),
    since: get("since"),
    last: last === undefined ? undefined : number("last", last),
  });
}

/** Checks a position's values before the stream is even looked at. */
export function checkedPosition(position: Position): Position {
  const kinds = (["from", "since", "last"] as const).filter((k) => k in position);
  if (kinds.length !== 1) {
    throw new InvalidPositionError(`give exactly one of from, since and last, not ${kinds.join(" and ") || "none"}`);
  }
  if ("from" in position) {
    if (position.from === "first" || position.from === "now" || isOffset(position.from)) return position;
    throw new InvalidPositionError(`from must be "first", "now" or an offset from 1 to 2^53-1`);
  }
  if ("since" in position) {
    const { since } = position;
    if (since instanceof Date && Number.isNaN(since.getTime())) throw new InvalidPositionError("since must be a valid time");
    // A Date is held to what its text can say, so that every wire form can carry it.
    const text = since instanceof Date ? since.toISOString() : since;
    const problem = typeof text === "string" ? rfc3339Problem(text) : "since must be an RFC 3339 string";
    if (problem) throw new InvalidPositionError(`since: ${problem}`);
    return position;
  }
  if (!Number.isInteger(position.last) || position.last < 1 || position.last > MAX_LAST) {
    throw new InvalidPositionError(`last must be an integer from 1 to ${MAX_LAST}`);
  }
  return position;
}

/** Where a read starts: an offset, or a time still to be looked up in the stream. */
export type ReadStart = { startOffset: number; gap?: GapNotice } | { since: Date | string };

/** Turns a checked position into where the read starts, against the stream as it is now. */
export function resolvePosition(position: Position, range: StreamRange, epoch?: string): ReadStart {
  const requested = "from" in position && typeof position.from === "number" ? position.from : undefined;
  if (epoch !== undefined && epoch !== range.epoch) return fromOldest(range, requested ?? range.firstOffset);
  if ("since" in position) return { since: position.since };
  if ("last" in position) return { startOffset: Math.max(range.firstOffset, range.lastOffset - position.last + 1) };
  if (position.from === "first") return { startOffset: range.firstOffset };
  if (position.from === "now") return { startOffset: range.lastOffset + 1 };
  if (position.from > range.lastOffset + 1) {
    throw new InvalidPositionError(`from=${position.from} is beyond the end of stream ${range.name}`, range);
  }
  if (position.from < range.firstOffset) return fromOldest(range, position.from);
  return { startOffset: position.from };
}

function fromOldest(range: StreamRange, requested: number): ReadStart {
  return {
    startOffset: range.firstOffset,
    gap: { stream: range.name, requested, first: range.firstOffset, epoch: range.epoch },
  };
}
