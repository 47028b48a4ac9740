import {
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescField,
  type DescMessage,
  type JsonValue,
  type Message,
  type Registry,
} from "@bufbuild/protobuf";
import type { EventDefinition } from "./definitions.js";
import { rfc3339Problem } from "@streamgate/protocol/time";
import { ApiError } from "@streamgate/protocol/errors";

/** Event data that does not match its type; `path` is the JSON path of the first bad field. */
export class InvalidEventDataError extends ApiError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super("invalid_argument", `${path}: ${message}`, [{ path, message }]);
    this.name = "InvalidEventDataError";
  }
}

/** Canonical proto3 JSON in, strictly: unknown fields, wrong types and out-of-range values fail. */
/** JSON in: canonical proto3 JSON of the type; `registry` resolves what a google.protobuf.Any holds. */
export function messageFromJson(event: EventDefinition, json: JsonValue, registry: Registry, path = "data"): Message {
  return parseJson(event.message, json, registry, path);
}

export function messageToBinary(event: EventDefinition, message: Message): Uint8Array {
  return toBinary(event.message, message);
}

/** Protobuf bytes in: they must decode as the type. Unknown fields are kept (newer producers). */
export function messageFromBinary(event: EventDefinition, bytes: Uint8Array, path = "data"): Message {
  try {
    return fromBinary(event.message, bytes);
  } catch (err) {
    throw new InvalidEventDataError(path, `bytes do not decode as ${event.type}: ${(err as Error).message}`);
  }
}

/** Canonical proto3 JSON of the bytes; `registry` resolves what a google.protobuf.Any holds. */
export function binaryToJson(message: DescMessage, bytes: Uint8Array, registry: Registry): JsonValue {
  return toJson(message, fromBinary(message, bytes), { registry });
}

/** The event's key: its key field's value, when the schema declares one and it is set. */
export function keyFromMessage(event: EventDefinition, message: Message): string | undefined {
  if (!event.keyField) return undefined;
  const value = (message as unknown as Record<string, unknown>)[event.keyField.localName];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function parseJson(desc: DescMessage, json: JsonValue, registry: Registry, path: string): Message {
  let message: Message;
  try {
    message = fromJson(desc, json, { registry });
  } catch (err) {
    const located = locate(desc, json, registry, path);
    throw new InvalidEventDataError(located.path, located.message ?? (err as Error).message);
  }
  checkTimestamps(desc, json, path);
  return message;
}

/**
 * @bufbuild/protobuf reads a Timestamp through Date, which moves an impossible date
 * (2026-02-30) to a real one (March 2): such values are refused instead, as positions are.
 */
function checkTimestamps(desc: DescMessage, json: JsonValue, path: string): void {
  if (typeof json !== "object" || json === null || Array.isArray(json) || WELL_KNOWN.test(desc.typeName)) return;
  for (const [name, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === name || f.name === name);
    if (!field?.message || value === null) continue;
    const fieldPath = `${path}.${name}`;
    const items: [string, JsonValue][] =
      field.fieldKind === "message"
        ? [[fieldPath, value]]
        : field.fieldKind === "list" && Array.isArray(value)
          ? value.map((item, i) => [`${fieldPath}[${i}]`, item])
          : field.fieldKind === "map" && typeof value === "object" && !Array.isArray(value)
            ? Object.entries(value).map(([key, item]) => [`${fieldPath}.${key}`, item])
            : [];
    for (const [itemPath, item] of items) {
      if (field.message.typeName !== TIMESTAMP) checkTimestamps(field.message, item, itemPath);
      else if (typeof item === "string") {
        const problem = rfc3339Problem(item);
        if (problem) throw new InvalidEventDataError(itemPath, problem);
      }
    }
  }
}

const TIMESTAMP = "google.protobuf.Timestamp";

/**
 * @bufbuild/protobuf names the failing field but not where it sits, so the path is found by
 * parsing one field at a time and descending into the message fields that fail.
 */
function locate(desc: DescMessage, json: JsonValue, registry: Registry, path: string): { path: string; message?: string } {
  if (typeof json !== "object" || json === null || Array.isArray(json) || WELL_KNOWN.test(desc.typeName)) {
    return { path, message: `expected ${desc.typeName} as a JSON object` };
  }
  for (const [name, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === name || f.name === name);
    const fieldPath = `${path}.${name}`;
    if (!field) return { path: fieldPath, message: `unknown field "${name}" in ${desc.typeName}` };
    try {
      fromJson(desc, { [name]: value }, { registry });
      continue;
    } catch (err) {
      const message = (err as Error).message;
      const nested = nestedMessageValues(field, value, fieldPath);
      for (const [itemPath, item] of nested) {
        try {
          fromJson(field.message!, item, { registry });
        } catch {
          const inner = locate(field.message!, item, registry, itemPath);
          return { path: inner.path, message: inner.message ?? message };
        }
      }
      return { path: fieldPath, message };
    }
  }
  return { path };
}

/** The values of a message-typed field (singular or repeated) to descend into, with their paths. */
function nestedMessageValues(field: DescField, value: JsonValue, path: string): [string, JsonValue][] {
  if (!field.message || WELL_KNOWN.test(field.message.typeName)) return [];
  if (field.fieldKind === "message") return [[path, value]];
  if (field.fieldKind === "list" && Array.isArray(value)) return value.map((item, i) => [`${path}[${i}]`, item]);
  return [];
}

/** Well-known types have JSON forms of their own (strings, numbers): they are leaves here. */
const WELL_KNOWN = /^google\.protobuf\./;
