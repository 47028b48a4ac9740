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
    case ScalarType.INT64:
      return (r) => `"${r.int64()}"`;
    case ScalarType.UINT64:
      return (r) => `"${r.uint64()}"`;
    case ScalarType.SINT64:
      return (r) => `"${r.sint64()}"`;
    case ScalarType.FIXED64:
      return (r) => `"${r.fixed64()}"`;
    case ScalarType.SFIXED64:
      return (r) => `"${r.sfixed64()}"`;
    default:
      return numberTextReader(type);
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
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return '"0"';
    default:
      return "0";
  }
}

/** A map key as the property name protobuf-es gives it (String() of the key's value). */
export function mapKeyReader(type: ScalarType, utf8Validation: boolean): TextReader {
  switch (type) {
    case ScalarType.STRING:
      return (r) => r.string(utf8Validation);
    case ScalarType.BOOL:
      return (r) => (r.bool() ? "true" : "false");
    case ScalarType.INT64:
      return (r) => String(r.int64());
    case ScalarType.UINT64:
      return (r) => String(r.uint64());
    case ScalarType.SINT64:
      return (r) => String(r.sint64());
    case ScalarType.FIXED64:
      return (r) => String(r.fixed64());
    case ScalarType.SFIXED64:
      return (r) => String(r.sfixed64());
    default:
      return numberTextReader(type);
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

function numberTextReader(type: ScalarType): TextReader {
  switch (type) {
    case ScalarType.UINT32:
      return (r) => String(r.uint32());
    case ScalarType.SINT32:
      return (r) => String(r.sint32());
    case ScalarType.FIXED32:
      return (r) => String(r.fixed32());
    case ScalarType.SFIXED32:
      return (r) => String(r.sfixed32());
    default:
      return (r) => String(r.int32());
  }
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
