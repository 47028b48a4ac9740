import { ScalarType, type DescEnum } from "@bufbuild/protobuf";
import type { BinaryReader } from "@bufbuild/protobuf/wire";

/** Reads one value off the wire and returns it as proto3 JSON text. */
export type TextReader = (reader: BinaryReader) => string;

/**
 * The JSON text of a scalar as toJson() and stringifyJson() write it: 64-bit integers as
 * decimal strings, floats with "NaN" and "Infinity" as strings and -0 kept, bytes as padded
 * standard base64, strings escaped by JSON.stringify.
 */
export function scalarTextReader(type: ScalarType, utf8Validation: boolean): TextReader {
  switch (type) {
    case ScalarType.STRING:
      return (r) => JSON.stringify(r.string(utf8Validation));
    case ScalarType.BYTES:
      return (r) => `"${base64(r.bytes())}"`;
    case ScalarType.BOOL:
      return (r) => (r.bool() ? "true" : "false");
    case ScalarType.DOUBLE:
      return (r) => floatText(r.double());
    case ScalarType.FLOAT:
      return (r) => floatText(r.float());
    default:
      return integerTextReader(type, SIXTY_FOUR_BIT.has(type));
  }
}

/** The text of a scalar's zero value: an implicit-presence field holding it is left out. */
export function scalarZeroText(type: ScalarType): string {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return '""';
    case ScalarType.BOOL:
      return "false";
    default:
      return SIXTY_FOUR_BIT.has(type) ? '"0"' : "0";
  }
}

/** A map key as the property name protobuf-es gives it (String() of the key's value). */
export function mapKeyReader(type: ScalarType, utf8Validation: boolean): TextReader {
  switch (type) {
    case ScalarType.STRING:
      return (r) => r.string(utf8Validation);
    case ScalarType.BOOL:
      return (r) => (r.bool() ? "true" : "false");
    default:
      return integerTextReader(type, false);
  }
}

/** The key a map entry without one gets: the zero value of the key type. */
export function mapKeyZero(type: ScalarType): string {
  return type === ScalarType.STRING ? "" : type === ScalarType.BOOL ? "false" : "0";
}

/** An enum value's JSON: its name, the number when the schema has no such value, null for NullValue. */
export function enumText(desc: DescEnum): (value: number) => string {
  if (desc.typeName === "google.protobuf.NullValue") return () => "null";
  const names = new Map(Object.values(desc.value).map((v) => [v.number, JSON.stringify(v.jsonName)]));
  return (value) => names.get(value) ?? String(value);
}

type IntegerRead = (reader: BinaryReader) => number | bigint | string;

/** How each integer type is read off the wire. */
const INTEGER_READS: Partial<Record<ScalarType, IntegerRead>> = {
  [ScalarType.INT32]: (r) => r.int32(),
  [ScalarType.UINT32]: (r) => r.uint32(),
  [ScalarType.SINT32]: (r) => r.sint32(),
  [ScalarType.FIXED32]: (r) => r.fixed32(),
  [ScalarType.SFIXED32]: (r) => r.sfixed32(),
  [ScalarType.INT64]: (r) => r.int64(),
  [ScalarType.UINT64]: (r) => r.uint64(),
  [ScalarType.SINT64]: (r) => r.sint64(),
  [ScalarType.FIXED64]: (r) => r.fixed64(),
  [ScalarType.SFIXED64]: (r) => r.sfixed64(),
};

/** The integers proto3 JSON writes as strings. */
const SIXTY_FOUR_BIT: ReadonlySet<ScalarType> = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);

/** An integer's decimal text, in quotes when `quoted`. */
function integerTextReader(type: ScalarType, quoted: boolean): TextReader {
  const read = INTEGER_READS[type] ?? INTEGER_READS[ScalarType.INT32]!;
  return quoted ? (r) => `"${read(r)}"` : (r) => String(read(r));
}

function floatText(value: number): string {
  if (Number.isNaN(value)) return '"NaN"';
  if (value === Infinity) return '"Infinity"';
  if (value === -Infinity) return '"-Infinity"';
  return Object.is(value, -0) ? "-0" : String(value);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
