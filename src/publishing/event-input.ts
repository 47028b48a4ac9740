import type { JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";
import { checkEvent, InvalidEventError, type EventToStore } from "../backbone/publish.js";
import { EVENT_ID_PATTERN } from "../backbone/stored-event.js";
import type { EventDefinition, StreamDefinition } from "../schema/definitions.js";
import {
  InvalidEventDataError,
  keyFromMessage,
  messageFromBinary,
  messageFromJson,
  messageToBinary,
} from "../schema/transcode.js";
import { ApiError } from "../gateway/errors.js";

/** An event to publish as JSON: PROTOCOL.md section 4 (HTTP) and 5.3 (WebSocket `publish`). */
export const jsonEventInput = z
  .object({
    type: z.string().min(1).optional(),
    data: z.record(z.string(), z.unknown()),
    key: z.string().optional(),
    id: z.string().regex(EVENT_ID_PATTERN, `must match ${EVENT_ID_PATTERN.source}`).optional(),
  })
  .strict();
export type JsonEventInput = z.infer<typeof jsonEventInput>;

/** An event to publish as protobuf: its bytes, and type, key and id from headers or frame fields. */
export interface BinaryEventInput {
  type: string | undefined;
  key: string | undefined;
  id: string | undefined;
  data: Uint8Array;
}

/**
 * Checks one JSON event against the stream's schema and everything else storing it needs,
 * and encodes it; `path` prefixes error paths. Nothing that passes fails later as bad input.
 */
export function prepareJsonEvent(
  stream: StreamDefinition,
  input: JsonEventInput,
  maxPayload: number,
  path = "",
): EventToStore {
  const event = eventType(stream, input.type, `${path}type`);
  const message = withDataPath(() => messageFromJson(event, input.data as JsonValue, `${path}data`));
  return checked(
    {
      stream: stream.name,
      type: event.type,
      key: nonEmpty(input.key) ?? keyFromMessage(event, message),
      id: input.id,
      data: messageToBinary(event, message),
    },
    maxPayload,
    path,
  );
}

/** Checks protobuf bytes against the type; the bytes are stored as they came. */
export function prepareBinaryEvent(
  stream: StreamDefinition,
  input: BinaryEventInput,
  maxPayload: number,
): EventToStore {
  const event = eventType(stream, input.type, "Streamgate-Type");
  const message = withDataPath(() => messageFromBinary(event, input.data));
  return checked(
    {
      stream: stream.name,
      type: event.type,
      key: nonEmpty(input.key) ?? keyFromMessage(event, message),
      id: input.id,
      data: input.data,
    },
    maxPayload,
    "",
  );
}

function checked(event: EventToStore, maxPayload: number, path: string): EventToStore {
  try {
    checkEvent(event, maxPayload);
  } catch (err) {
    if (!(err instanceof InvalidEventError)) throw err;
    const at = path + err.field;
    throw new ApiError("invalid_argument", `${at}: ${err.message}`, [{ path: at, message: err.message }]);
  }
  return event;
}

/** The event type named, or the stream's only one when none is named. */
function eventType(stream: StreamDefinition, type: string | undefined, path: string): EventDefinition {
  if (type === undefined) {
    if (stream.events.length === 1) return stream.events[0]!;
    throw new ApiError("invalid_argument", `type is required: stream ${stream.name} has ${stream.events.length} event types`, [
      { path, message: "required" },
    ]);
  }
  const event = stream.events.find((e) => e.type === type);
  if (!event) {
    const known = stream.events.map((e) => e.type).join(", ");
    throw new ApiError("invalid_argument", `stream ${stream.name} has no event type "${type}" (types: ${known})`, [
      { path, message: "unknown event type" },
    ]);
  }
  return event;
}

function withDataPath<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof InvalidEventDataError)) throw err;
    throw new ApiError("invalid_argument", `${err.path}: ${err.message}`, [{ path: err.path, message: err.message }]);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

/** zod's first complaint about a request body, as a protocol error with its path. */
export function invalidShape(error: z.ZodError, prefix = ""): ApiError {
  const details = error.issues.map((issue) => ({
    path: prefix + formatPath(issue.path),
    message: issue.message,
  }));
  return new ApiError("invalid_argument", details.map((d) => `${d.path || "(body)"}: ${d.message}`).join("; "), details);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)),
    "",
  );
}
