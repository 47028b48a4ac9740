/**
 * JSON Schemas of protobuf messages in canonical proto3 JSON, exactly as the gateway writes
 * event data (@bufbuild/protobuf's toJson with its default options): JSON field names, 64-bit
 * integers as decimal strings, bytes as standard base64, enums by name (an unknown number as
 * itself), NaN and infinities as strings, well-known types in their own JSON forms, default
 * values left out. Nested messages and enums are components, referenced by full name.
 */
import { ScalarType, type DescEnum, type DescField, type DescMessage, type DescOneof } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { getComments } from "@bufbuild/protoplugin";
import { atMostOne, schemaRef, type JsonSchema } from "./spec.js";

/** A decimal integer as proto3 JSON writes 64-bit ones (and map keys): no sign on zero, no leading zeros. */
const SIGNED_DECIMAL = "^(0|-?[1-9][0-9]*)$";
const UNSIGNED_DECIMAL = "^(0|[1-9][0-9]*)$";
/** Standard base64 with padding, as toJson writes bytes. */
export const BASE64_PATTERN = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$";
/** toJson's Timestamp: UTC, with no, 3, 6 or 9 fractional digits. */
const TIMESTAMP_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{3}|\\.[0-9]{6}|\\.[0-9]{9})?Z$";
const DURATION_PATTERN = "^-?[0-9]+(\\.[0-9]{3}|\\.[0-9]{6}|\\.[0-9]{9})?s$";
const INT32 = { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 };
const UINT32 = { minimum: 0, maximum: 2 ** 32 - 1 };

/** The schemas of `roots` and of every message and enum they reach, keyed by full name, sorted. */
export function protoJsonSchemas(roots: readonly DescMessage[]): Record<string, JsonSchema> {
  const schemas = new Map<string, JsonSchema>();
  const pending: (DescMessage | DescEnum)[] = [...roots];
  const refer = (desc: DescMessage | DescEnum): JsonSchema => {
    pending.push(desc);
    return schemaRef(desc.typeName);
  };
  for (let desc = pending.pop(); desc; desc = pending.pop()) {
    if (schemas.has(desc.typeName)) continue;
    schemas.set(desc.typeName, desc.kind === "message" ? messageSchema(desc, refer) : enumSchema(desc));
  }
  return Object.fromEntries([...schemas].sort(([a], [b]) => a.localeCompare(b)));
}

type Refer = (desc: DescMessage | DescEnum) => JsonSchema;

function messageSchema(desc: DescMessage, refer: Refer): JsonSchema {
  const wellKnown = wellKnownSchema(desc);
  if (wellKnown) return wellKnown;
  const properties = Object.fromEntries(desc.fields.map((field) => [field.jsonName, documented(fieldSchema(field, refer), field)]));
  return {
    type: "object",
    ...documentation(desc),
    properties,
    additionalProperties: false,
    ...(desc.oneofs.length > 0 && { allOf: desc.oneofs.map(atMostOneOf) }),
  };
}

/** proto3 `optional` fields are not among a message's oneofs: they have no siblings. */
function atMostOneOf(oneof: DescOneof): JsonSchema {
  return atMostOne(
    oneof.fields.map((field) => field.jsonName),
    `oneof ${oneof.name}: at most one of its fields`,
  );
}

function fieldSchema(field: DescField, refer: Refer): JsonSchema {
  switch (field.fieldKind) {
    case "list":
      return { type: "array", items: valueSchema(field, refer) };
    case "map":
      return { type: "object", ...keySchema(field.mapKey), additionalProperties: valueSchema(field, refer) };
    default:
      return valueSchema(field, refer);
  }
}

/** The schema of one value of the field: the field itself, an item of a list, or a value of a map. */
function valueSchema(field: DescField, refer: Refer): JsonSchema {
  if (field.message) return refer(field.message);
  if (field.enum) return refer(field.enum);
  return scalarSchema(field.scalar!);
}

/** Map keys are JSON object keys: strings holding the key's value. */
function keySchema(key: ScalarType): Pick<JsonSchema, "propertyNames"> {
  switch (key) {
    case ScalarType.STRING:
      return {};
    case ScalarType.BOOL:
      return { propertyNames: { type: "string", enum: ["true", "false"] } };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { propertyNames: { type: "string", pattern: UNSIGNED_DECIMAL } };
    default:
      return { propertyNames: { type: "string", pattern: SIGNED_DECIMAL } };
  }
}

function scalarSchema(type: ScalarType): JsonSchema {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { anyOf: [{ type: "number" }, { type: "string", enum: ["NaN", "Infinity", "-Infinity"] }] };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", ...INT32 };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", ...UINT32 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", pattern: SIGNED_DECIMAL, description: "a 64-bit integer, as a decimal string" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", pattern: UNSIGNED_DECIMAL, description: "an unsigned 64-bit integer, as a decimal string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64", pattern: BASE64_PATTERN };
  }
}

function enumSchema(desc: DescEnum): JsonSchema {
  if (desc.typeName === "google.protobuf.NullValue") return { type: "null" };
  return {
    ...documentation(desc),
    anyOf: [
      { type: "string", enum: desc.values.map((value) => value.jsonName) },
      { type: "integer", ...INT32, description: "a value this version of the schema has no name for" },
    ],
  };
}

/** The well-known types whose JSON is not that of a message with their fields. */
function wellKnownSchema(desc: DescMessage): JsonSchema | undefined {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return { type: "string", format: "date-time", pattern: TIMESTAMP_PATTERN, description: "RFC 3339, in UTC" };
    case "google.protobuf.Duration":
      return { type: "string", pattern: DURATION_PATTERN, description: "seconds with the suffix s, e.g. 1.5s" };
    case "google.protobuf.FieldMask":
      return { type: "string", description: "field paths in lowerCamelCase, separated by commas" };
    case "google.protobuf.Struct":
      return { type: "object", description: "any JSON object" };
    case "google.protobuf.ListValue":
      return { type: "array", description: "any JSON array" };
    case "google.protobuf.Value":
      return { description: "any JSON value" };
    case "google.protobuf.Any":
      return {
        type: "object",
        description: 'a packed message: its fields (or, for a well-known type, "value") with its type URL in "@type"; {} when empty',
        properties: { "@type": { type: "string" } },
      };
  }
  // A wrapper is its value: a set Int64Value of 0 is "0", where a plain int64 of 0 is left out.
  return isWrapperDesc(desc) ? scalarSchema(desc.fields[0]!.scalar) : undefined;
}

/** The comment and deprecation of a declaration, as schema annotations. */
function documentation(desc: DescMessage | DescEnum | DescField): Pick<JsonSchema, "description" | "deprecated"> {
  const text = commentOf(desc);
  return { ...(text && { description: text }), ...(desc.deprecated && { deprecated: true }) };
}

/** The comment before a declaration (or after it, on its line), when the descriptor set keeps source info. */
export function commentOf(desc: DescMessage | DescEnum | DescField): string | undefined {
  const comments = getComments(desc);
  const text = (comments.leading ?? comments.trailing)
    ?.split("\n")
    .map((line) => line.trim())
    .join("\n")
    .trim();
  return text || undefined;
}

/** A field's schema with the field's own documentation; beside a $ref it would be ignored, so the ref is wrapped. */
function documented(schema: JsonSchema, field: DescField): JsonSchema {
  const { description, deprecated } = documentation(field);
  if (!description && !deprecated) return schema;
  if (schema.$ref) return { ...(description && { description }), ...(deprecated && { deprecated }), allOf: [schema] };
  const text = [description, schema.description && `(${schema.description})`].filter(Boolean).join(" ");
  return { ...schema, ...(text && { description: text }), ...(deprecated && { deprecated }) };
}
