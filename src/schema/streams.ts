import {
  createRegistry,
  getOption,
  hasOption,
  ScalarType,
  toJson,
  type DescExtension,
  type DescField,
  type DescFile,
  type DescMessage,
  type JsonValue,
} from "@bufbuild/protobuf";
import { z } from "zod";
import { SchemaError } from "./errors.js";
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  STREAM_NAME_PATTERN,
  type EventDefinition,
  type StreamDefinition,
} from "./definitions.js";

export const STREAM_OPTION = "streamgate.v1.stream";
export const EVENT_OPTION = "streamgate.v1.event";

// Option values are read as their canonical JSON, so durations arrive as "120s" strings.
const durationJson = z.string().regex(/^-?\d+(\.\d+)?s$/);
const streamOptionsJson = z.object({
  name: z.string().default(""),
  description: z.string().default(""),
  retention: z
    .object({
      maxAge: durationJson.optional(),
      maxBytes: z.string().optional(),
      maxEvents: z.string().optional(),
    })
    .default({}),
  storage: z.enum(["STORAGE_UNSPECIFIED", "STORAGE_FILE", "STORAGE_MEMORY"]).default("STORAGE_UNSPECIFIED"),
  replicas: z.number().int().default(0),
  duplicateWindow: durationJson.optional(),
});
const eventOptionsJson = z.object({
  stream: z.string().default(""),
  keyField: z.string().default(""),
});

/**
 * Reads every stream and event declared with the streamgate options in `files`, checking the
 * declarations as a whole. Throws SchemaError on the first misuse.
 */
export function readStreams(files: readonly DescFile[]): StreamDefinition[] {
  const registry = createRegistry(...files);
  const streamExt = registry.getExtension(STREAM_OPTION);
  const eventExt = registry.getExtension(EVENT_OPTION);
  if (!streamExt || !eventExt) return [];

  const streams = new Map<string, StreamDefinition>();
  for (const file of files) {
    if (!hasOption(file, streamExt)) continue;
    const stream = readStreamOption(file, optionJson(file, streamExt));
    const twin = streams.get(stream.name);
    if (twin) {
      throw new SchemaError(file.proto.name, STREAM_OPTION, `stream "${stream.name}" is already declared in ${twin.file}`);
    }
    streams.set(stream.name, stream);
  }

  for (const file of files) {
    for (const message of allMessages(file)) {
      if (!hasOption(message, eventExt)) continue;
      const event = readEventOption(file, message, optionJson(message, eventExt));
      const stream = streams.get(event.streamName);
      if (!stream) {
        const known = [...streams.keys()].join(", ") || "none";
        throw new SchemaError(
          file.proto.name,
          EVENT_OPTION,
          `stream "${event.streamName}" is not declared (declared streams: ${known})`,
          message.typeName,
        );
      }
      stream.events.push(event.definition);
    }
  }
  return [...streams.values()];
}

function optionJson(desc: DescFile | DescMessage, ext: DescExtension): JsonValue {
  if (ext.fieldKind !== "message") throw new Error(`${ext.typeName} must be a message option`);
  return toJson(ext.message, getOption(desc, ext) as never);
}

function readStreamOption(file: DescFile, json: JsonValue): StreamDefinition {
  const fail = (problem: string) => new SchemaError(file.proto.name, STREAM_OPTION, problem);
  const parsed = streamOptionsJson.safeParse(json);
  if (!parsed.success) throw fail(parsed.error.message);
  const o = parsed.data;
  if (!STREAM_NAME_PATTERN.test(o.name)) {
    throw fail(`invalid stream name "${o.name}": it must match ${STREAM_NAME_PATTERN.source}`);
  }
  if (o.replicas < 0 || o.replicas > 5) throw fail(`replicas must be 1 to 5, not ${o.replicas}`);
  const maxAgeMs = o.retention.maxAge ? durationMs(o.retention.maxAge) : 0;
  const duplicateWindowMs = o.duplicateWindow ? durationMs(o.duplicateWindow) : DEFAULT_DUPLICATE_WINDOW_MS;
  if (maxAgeMs < 0) throw fail("retention.max_age must not be negative");
  if (duplicateWindowMs <= 0) throw fail("duplicate_window must be positive");
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) {
    throw fail("duplicate_window must not be longer than retention.max_age");
  }
  return {
    name: o.name,
    description: o.description,
    file: file.proto.name,
    settings: {
      maxAgeMs,
      maxBytes: positiveOrUnlimited(o.retention.maxBytes),
      maxEvents: positiveOrUnlimited(o.retention.maxEvents),
      storage: o.storage === "STORAGE_MEMORY" ? "memory" : "file",
      // 0 is proto3's unset: not pinned.
      ...(o.replicas > 0 && { replicas: o.replicas }),
      duplicateWindowMs,
    },
    events: [],
  };
}

function readEventOption(
  file: DescFile,
  message: DescMessage,
  json: JsonValue,
): { streamName: string; definition: EventDefinition } {
  const fail = (problem: string) => new SchemaError(file.proto.name, EVENT_OPTION, problem, message.typeName);
  const parsed = eventOptionsJson.safeParse(json);
  if (!parsed.success) throw fail(parsed.error.message);
  const { stream, keyField: keyFieldName } = parsed.data;
  if (stream === "") throw fail("stream is required");
  const definition: EventDefinition = { type: message.typeName, message, file: file.proto.name };
  if (keyFieldName !== "") {
    const field = message.fields.find((f) => f.name === keyFieldName);
    if (!field) throw fail(`key_field "${keyFieldName}" is not a field of ${message.typeName}`);
    if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING || field.oneof) {
      throw fail(`key_field "${keyFieldName}" must be a singular string field, not ${describeField(field)}`);
    }
    definition.keyField = field;
  }
  return { streamName: stream, definition };
}

function describeField(field: DescField): string {
  if (field.oneof) return "a member of oneof " + field.oneof.name;
  const kind = field.fieldKind === "scalar" ? ScalarType[field.scalar].toLowerCase() : field.fieldKind;
  return `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} field`;
}

function* allMessages(parent: { messages: readonly DescMessage[] } | DescMessage): Generator<DescMessage> {
  const children = "nestedMessages" in parent ? parent.nestedMessages : parent.messages;
  for (const message of children) {
    yield message;
    yield* allMessages(message);
  }
}

function durationMs(json: string): number {
  return Math.round(Number.parseFloat(json.slice(0, -1)) * 1000);
}

function positiveOrUnlimited(int64Json: string | undefined): number {
  const n = int64Json === undefined ? 0 : Number(int64Json);
  return n > 0 ? n : -1;
}
