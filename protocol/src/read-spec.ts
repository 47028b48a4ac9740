import { Anchor, type Subscribe } from "../generated/streamgate/v1/frames.js";
import { ApiError } from "./errors.js";
import { checkedPosition, positionFromFields, positionFromQuery, type Position, type PositionFields } from "./position.js";
import { rfc3339FromTimestamp, timestampFromDate, timestampFromRfc3339 } from "./time.js";

/** What one read asks for (PROTOCOL.md section 3): where to start, and the filters. */
export interface ReadSpec {
  position: Position;
  epoch?: string;
  types?: readonly string[];
  key?: string;
}

/** The query parameters of a read, besides those of its protocol. */
export const READ_PARAMS = ["from", "since", "last", "epoch", "types", "key"] as const;

/** A query string as fastify and URLSearchParams give it: a repeated name is an array. */
export type Query = Record<string, string | string[] | undefined>;

/** One query parameter; a repeated one is a mistake, not a list. */
export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new ApiError("invalid_argument", `${name} is given more than once`);
  return value;
}

const INTEGER = /^-?\d+$/;

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

/** Refuses parameters the route does not know, so a typo (frm=first) is not silently "now". */
export function checkQueryNames(query: Query, known: readonly string[]): void {
  const unknown = Object.keys(query).filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  const allowed = known.length > 0 ? `; this path takes ${known.join(", ")}` : "; this path takes none";
  throw new ApiError("invalid_argument", `unknown query parameter ${unknown.map((n) => `"${n}"`).join(", ")}${allowed}`);
}

/** The read of a query string. */
export function readSpecFromQuery(query: Query): ReadSpec {
  const get = (name: string) => single(query, name);
  const spec: ReadSpec = { position: positionFromQuery(get) };
  const epoch = get("epoch");
  // An empty epoch names no generation, as an unset one in the protobuf form.
  if (epoch) spec.epoch = epoch;
  const types = get("types");
  if (types !== undefined) spec.types = types.split(",");
  const key = get("key");
  if (key !== undefined) spec.key = key;
  return spec;
}

export function readSpecToQuery(spec: ReadSpec): URLSearchParams {
  const query = new URLSearchParams();
  const { position } = spec;
  if ("from" in position) query.set("from", String(position.from));
  else if ("since" in position) query.set("since", sinceText(position.since));
  else query.set("last", String(position.last));
  if (spec.epoch !== undefined) query.set("epoch", spec.epoch);
  if (spec.types?.length) query.set("types", spec.types.join(","));
  if (spec.key !== undefined) query.set("key", spec.key);
  return query;
}

/** The read fields of a JSON subscribe frame or webhook body. */
export interface ReadSpecJson extends PositionFields {
  epoch?: string | undefined;
  types?: readonly string[] | undefined;
  key?: string | undefined;
}

export function readSpecFromJson(fields: ReadSpecJson): ReadSpec {
  return {
    position: positionFromFields(fields),
    ...(fields.epoch && { epoch: fields.epoch }),
    // An empty list filters nothing, as an empty repeated field does in the proto form.
    ...(fields.types?.length && { types: fields.types }),
    ...(fields.key !== undefined && { key: fields.key }),
  };
}

export function readSpecToJson(spec: ReadSpec): ReadSpecJson {
  const { position } = spec;
  return {
    ...("since" in position ? { since: sinceText(position.since) } : position),
    ...(spec.epoch !== undefined && { epoch: spec.epoch }),
    ...(spec.types?.length && { types: spec.types }),
    ...(spec.key !== undefined && { key: spec.key }),
  };
}

type SubscribeRead = Pick<Subscribe, "position" | "epoch" | "types" | "key">;

export function readSpecFromProto(subscribe: SubscribeRead): ReadSpec {
  const p = subscribe.position;
  let position: Position;
  if (p?.$case === "from") position = { from: Number(p.value) };
  else if (p?.$case === "last") position = { last: p.value };
  // Out of a Date's range: left as text no position accepts, so it is refused as such.
  else if (p?.$case === "since") position = { since: rfc3339FromTimestamp(p.value) ?? `${p.value.seconds}s+${p.value.nanos}ns` };
  else position = { from: p?.value === Anchor.ANCHOR_FIRST ? "first" : "now" };
  return {
    position: checkedPosition(position),
    ...(subscribe.epoch !== "" && { epoch: subscribe.epoch }),
    ...(subscribe.types.length > 0 && { types: subscribe.types }),
    ...(subscribe.key !== undefined && { key: subscribe.key }),
  };
}

export function readSpecToProto(spec: ReadSpec): SubscribeRead {
  return {
    // Checked here too: protoPosition would quietly write an unchecked position as another one.
    position: protoPosition(checkedPosition(spec.position)),
    epoch: spec.epoch ?? "",
    types: [...(spec.types ?? [])],
    ...(spec.key !== undefined && { key: spec.key }),
  };
}

function protoPosition(position: Position): Subscribe["position"] {
  if ("since" in position) {
    const { since } = position;
    return { $case: "since", value: typeof since === "string" ? timestampFromRfc3339(since) : timestampFromDate(since) };
  }
  if ("last" in position) return { $case: "last", value: position.last };
  if (typeof position.from === "number") return { $case: "from", value: BigInt(position.from) };
  return { $case: "anchor", value: position.from === "first" ? Anchor.ANCHOR_FIRST : Anchor.ANCHOR_NOW };
}

function sinceText(since: Date | string): string {
  return typeof since === "string" ? since : since.toISOString();
}

/** A long poll's `max` and `wait` (PROTOCOL.md section 5.2): their bounds and defaults. */
export const MAX_POLL_EVENTS = 1000;
export const DEFAULT_POLL_EVENTS = 100;
export const MAX_POLL_WAIT_S = 60;
export const DEFAULT_POLL_WAIT_S = 30;
