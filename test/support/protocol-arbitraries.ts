/**
 * fast-check generators for the wire format's unit tests (src/protocol/*.test.ts), each with
 * what decoding must give back, worked out independently of the code under test: calendar
 * dates through Date's own UTC arithmetic, envelopes as JSON.parse sees them.
 */
import fc from "fast-check";
import type { Timestamp } from "../../protocol/generated/google/protobuf/timestamp.js";
import type { Envelope, EventFields, ReceivedEvent, WireEvent } from "@streamgate/protocol/envelope";
import { encodeEventMessage } from "@streamgate/protocol/proto-codec";
import { MAX_LAST, MAX_OFFSET, type Position } from "@streamgate/protocol/position";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import { timestampFromRfc3339 } from "@streamgate/protocol/time";

// ---------------------------------------------------------------------------------------------
// RFC 3339 date-times, as their parts

export interface Rfc3339Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The fraction's digits, "" for none. */
  fraction: string;
  offset: "Z" | "z" | { sign: "+" | "-"; hours: number; minutes: number };
  separator: "T" | "t";
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

export function formatRfc3339(p: Rfc3339Parts): string {
  const offset = typeof p.offset === "string" ? p.offset : `${p.offset.sign}${pad(p.offset.hours)}:${pad(p.offset.minutes)}`;
  const fraction = p.fraction === "" ? "" : `.${p.fraction}`;
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}${p.separator}${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${fraction}${offset}`;
}

/**
 * The instant the parts name, or undefined when they name none: a day the month does not have,
 * a time of day past 23:59:59, an offset past 23:59, or an instant outside the years 0000 to
 * 9999 in UTC (which neither the Z form nor a streamgate Timestamp can carry).
 */
export function referenceInstant(p: Rfc3339Parts): Timestamp | undefined {
  if (p.fraction.length > 9) return undefined;
  // setUTCFullYear, unlike Date.UTC, takes years 0 to 99 as they are; an impossible day rolls over.
  const date = new Date(0);
  date.setUTCFullYear(p.year, p.month - 1, p.day);
  if (date.getUTCFullYear() !== p.year || date.getUTCMonth() !== p.month - 1 || date.getUTCDate() !== p.day) return undefined;
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return undefined;
  let offsetMinutes = 0;
  if (typeof p.offset !== "string") {
    if (p.offset.hours > 23 || p.offset.minutes > 59) return undefined;
    offsetMinutes = (p.offset.sign === "-" ? -1 : 1) * (p.offset.hours * 60 + p.offset.minutes);
  }
  date.setUTCHours(p.hour, p.minute - offsetMinutes, p.second);
  if (date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) return undefined;
  return { seconds: BigInt(date.getTime() / 1000), nanos: Number(p.fraction.padEnd(9, "0")) };
}

/** Mostly plausible values, sometimes anything two digits can hold. */
const field = (max: number, min = 0) => fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }) }, fc.integer({ min: 0, max: 99 }));
const separator = fc.constantFrom<"T" | "t">("T", "t");

const anyDate = fc.record({ year: fc.integer({ min: 0, max: 9999 }), month: field(12, 1), day: field(31, 1) });
/** The first and last days of the range, where an offset can carry the instant out of it. */
const edgeDate = fc.constantFrom({ year: 0, month: 1, day: 1 }, { year: 9999, month: 12, day: 31 });
const anyTime = fc.record({
  hour: field(23),
  minute: field(59),
  second: field(59),
  fraction: fc.string({ unit: fc.constantFrom(..."0123456789"), maxLength: 10 }),
  offset: fc.oneof(
    fc.constantFrom<"Z" | "z">("Z", "z"),
    fc.record({ sign: fc.constantFrom<"+" | "-">("+", "-"), hours: field(23), minutes: field(59) }),
  ),
  separator,
});

/** Parts of every shape the RFC 3339 grammar allows, real date-times or not. */
export const anyRfc3339Parts: fc.Arbitrary<Rfc3339Parts> = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: anyDate }, edgeDate), anyTime)
  .map(([date, time]) => ({ ...date, ...time }));

/** An RFC 3339 text that names a real instant, with that instant. */
export const validRfc3339: fc.Arbitrary<{ text: string; instant: Timestamp }> = anyRfc3339Parts
  .map((parts) => ({ text: formatRfc3339(parts), instant: referenceInstant(parts) }))
  .filter((c): c is { text: string; instant: Timestamp } => c.instant !== undefined);

export function instantOfDate(date: Date): Timestamp {
  const ms = date.getTime();
  const nanosOfMs = ((ms % 1000) + 1000) % 1000;
  return { seconds: BigInt((ms - nanosOfMs) / 1000), nanos: nanosOfMs * 1_000_000 };
}

// ---------------------------------------------------------------------------------------------
// Positions and read specs

/** Any string that survives UTF-8 (the proto form) and percent-encoding (the query form). */
export const text = (constraints: { minLength?: number; maxLength?: number } = {}) => fc.string({ unit: "binary", ...constraints });
/** Frame ids: 1 to 128 UTF-16 code units, as both forms count them. */
export const frameId = text({ minLength: 1, maxLength: 128 }).filter((s) => s.length <= 128);

export const offset = fc.integer({ min: 1, max: MAX_OFFSET });
export const wireTime = fc.date({ min: new Date("0000-01-01T00:00:00.000Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });

/** A position the protocol accepts, with the instant a since names. */
export interface PositionCase {
  position: Position;
  instant?: Timestamp;
}

export const validPosition: fc.Arbitrary<PositionCase> = fc.oneof(
  offset.map((from) => ({ position: { from } })),
  fc.constantFrom<"first" | "now">("first", "now").map((from) => ({ position: { from } })),
  fc.integer({ min: 1, max: MAX_LAST }).map((last) => ({ position: { last } })),
  validRfc3339.map(({ text: since, instant }) => ({ position: { since }, instant })),
  wireTime.map((since) => ({ position: { since }, instant: instantOfDate(since) })),
);

/** Positions of every kind and value, valid or not, as a JSON body or a careless caller may give them. */
export const anyPosition: fc.Arbitrary<Position> = fc.oneof(
  validPosition.map((c) => c.position),
  fc.oneof(fc.integer({ min: -3, max: MAX_OFFSET + 3 }), fc.double(), fc.string(), fc.anything()).map((from) => ({ from }) as Position),
  fc.oneof(fc.integer({ min: -3, max: MAX_LAST + 3 }), fc.double(), fc.anything()).map((last) => ({ last }) as Position),
  fc.oneof(anyRfc3339Parts.map(formatRfc3339), fc.string(), fc.date({ noInvalidDate: false }), fc.anything()).map((since) => ({ since }) as Position),
  fc.record({ from: offset, last: fc.integer({ min: 1, max: MAX_LAST }) }) as fc.Arbitrary<Position>,
  fc.constant({} as Position),
);

export interface ReadSpecCase {
  spec: ReadSpec;
  instant?: Timestamp;
}

/** A read spec in the one form every wire form can carry: filters absent or non-empty, types without commas. */
export const validReadSpec: fc.Arbitrary<ReadSpecCase> = fc
  .record(
    {
      position: validPosition,
      epoch: text({ minLength: 1, maxLength: 20 }),
      types: fc.array(text({ maxLength: 40 }).filter((t) => !t.includes(",")), { minLength: 1, maxLength: 4 }),
      key: text({ maxLength: 40 }),
    },
    { requiredKeys: ["position"] },
  )
  .map(({ position: { position, instant }, ...filters }) => ({ spec: { position, ...filters }, ...(instant && { instant }) }));

/** A read spec with its since as the instant it names, for forms that rewrite the text (proto writes UTC, nine digits). */
export function sinceAsInstant(spec: ReadSpec): ReadSpec | (Omit<ReadSpec, "position"> & { position: { since: Timestamp } }) {
  const { position } = spec;
  if (!("since" in position)) return spec;
  const { since } = position;
  return { ...spec, position: { since: typeof since === "string" ? timestampFromRfc3339(since) : instantOfDate(since) } };
}

/** Without the keys whose value is undefined, as a wire form that omits absent fields gives it back. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** What a read spec is after the JSON or query form: a Date since travels as its ISO text. */
export function asTextSince(spec: ReadSpec): ReadSpec {
  const { position } = spec;
  return "since" in position && position.since instanceof Date ? { ...spec, position: { since: position.since.toISOString() } } : spec;
}

// ---------------------------------------------------------------------------------------------
// Events as the gateway puts them on the wire, and as a client must receive them

export interface EventCase {
  wire: WireEvent;
  /** What decoding the JSON form must give. */
  json: ReceivedEvent;
  /** What decoding the protobuf form must give. */
  proto: ReceivedEvent;
}

export interface EventParts extends Omit<EventFields, "data"> {
  /** The encoded message. */
  bytes: Uint8Array;
  /** The message as canonical JSON; null when the gateway could not decode it. */
  data: unknown;
}

export function eventCase(e: EventParts): EventCase {
  const base64 = Buffer.from(e.bytes).toString("base64");
  const envelope: Envelope = {
    stream: e.stream,
    offset: e.offset,
    id: e.id,
    type: e.type,
    ...(e.key !== undefined && { key: e.key }),
    time: e.time.toISOString(),
    data: e.data,
    ...(e.data === null && { dataBase64: base64 }),
  };
  const json = JSON.stringify(envelope);
  const proto = encodeEventMessage({ ...e, data: e.bytes });
  const common = { stream: e.stream, offset: e.offset, id: e.id, type: e.type, key: e.key, time: e.time };
  return {
    wire: { offset: e.offset, json, proto },
    json: { ...common, data: e.data === null ? { undecodable: base64 } : { json: (JSON.parse(json) as Envelope).data } },
    proto: { ...common, data: { bytes: e.bytes } },
  };
}

/** Keys are absent or non-empty: the envelope omits a key the event does not have. */
export const anyEvent: fc.Arbitrary<EventCase> = fc
  .record({
    stream: text({ minLength: 1, maxLength: 40 }),
    offset,
    id: text({ maxLength: 40 }),
    type: text({ maxLength: 60 }),
    key: fc.option(text({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    time: fc.date({ min: new Date(0), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }),
    bytes: fc.uint8Array({ maxLength: 64 }),
    data: fc.oneof(fc.constant(null), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })),
  })
  .map(eventCase);
