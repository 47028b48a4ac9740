import type { JsonValue, Registry } from "@bufbuild/protobuf";
import { z } from "zod";
import { checkEvent, InvalidEventError, type EventToStore } from "../backbone/publish.js";
import type { BinaryEventInput, JsonEventInput } from "@streamgate/protocol/publish";
import type { EventDefinition, StreamDefinition } from "../schema/definitions.js";
import {
  keyFromMessage,
  messageFromBinary,
  messageFromJson,
  messageToBinary,
} from "../schema/transcode.js";
import { ApiError } from "@streamgate/protocol/errors";

/**
 * Checks one JSON event against the stream's schema and everything else storing it needs,
 * and encodes it; `path` prefixes error paths. Nothing that passes fails later as bad input.
 */
export function prepareJsonEvent(
  stream: StreamDefinition,
  input: JsonEventInput,
  maxPayload: number,
  registry: Registry,
  path = "",
): EventToStore {
  const event = eventType(stream, input.type, `${path}type`);
  const message = messageFromJson(event, input.data as JsonValue, registry, `${path}data`);
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
  const message = messageFromBinary(event, input.data);
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
    throw new ApiError("invalid_argument", `${at}: ${err.problem}`, [{ path: at, message: err.problem }]);
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
