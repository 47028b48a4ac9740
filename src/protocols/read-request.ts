import type { StreamDefinition } from "../schema/definitions.js";
import { keyProblem } from "../backbone/stored-event.js";
import type { PositionFields } from "../protocol/position.js";
import type { ReadRequest } from "../fanout/hub.js";
import { ApiError } from "../gateway/errors.js";

export type Query = Record<string, string | string[] | undefined>;

const INTEGER = /^-?\d+$/;

/** One query parameter; a repeated one is a mistake, not a list. */
export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new ApiError("invalid_argument", `${name} is given more than once`);
  return value;
}

/** A whole number from the query within [min, max], or the default. */
export function integerParam(query: Query, name: string, min: number, max: number, fallback: number): number {
  const raw = single(query, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!INTEGER.test(raw) || value < min || value > max) {
    throw new ApiError("invalid_argument", `${name} must be an integer from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

/** The position, epoch and filters of PROTOCOL.md section 3, from a query string. */
export function parseReadQuery(stream: StreamDefinition, query: Query): ReadRequest {
  const request: ReadRequest = { stream: stream.name, position: parsePosition(query) };
  const epoch = single(query, "epoch");
  if (epoch !== undefined) request.epoch = epoch;
  const types = single(query, "types");
  if (types !== undefined) request.types = parseTypes(stream, types.split(","));
  const key = single(query, "key");
  if (key !== undefined) request.key = parseKey(key);
  return request;
}

/** The position parameters as given; malformed numbers become NaN, refused when resolved. */
export function parsePosition(query: Query): PositionFields {
  const from = single(query, "from");
  const last = single(query, "last");
  return {
    from: from === undefined || from === "first" || from === "now" ? from : integerOrNaN(from),
    since: single(query, "since"),
    last: last === undefined ? undefined : integerOrNaN(last),
  };
}

function integerOrNaN(text: string): number {
  return INTEGER.test(text) ? Number(text) : Number.NaN;
}

export function parseTypes(stream: StreamDefinition, types: readonly string[]): string[] {
  const known = new Set(stream.events.map((e) => e.type));
  for (const type of types) {
    if (!known.has(type)) {
      throw new ApiError("invalid_argument", `stream ${stream.name} has no event type "${type}" (types: ${[...known].join(", ")})`);
    }
  }
  return [...new Set(types)];
}

export function parseKey(key: string): string {
  const problem = key === "" ? "the key is empty" : keyProblem(key);
  if (problem) throw new ApiError("invalid_argument", `key: ${problem}`);
  return key;
}
