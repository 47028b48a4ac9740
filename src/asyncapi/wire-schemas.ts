/**
 * JSON Schemas of what carries event data on the wire (PROTOCOL.md sections 2 to 6): the
 * envelope of each event type, the publish body, and the notices, results and errors around
 * them. Component names hold a hyphen, which no protobuf name can, so they never meet a message's.
 */
import { ERROR_CATALOG } from "@streamgate/protocol/errors";
import { MAX_LAST, MAX_OFFSET } from "@streamgate/protocol/position";
import { EVENT_ID_PATTERN } from "@streamgate/protocol/publish";
import { STREAM_NAME_PATTERN, type EventDefinition, type StreamDefinition } from "../schema/definitions.js";
import { BASE64_PATTERN } from "./proto-json-schema.js";
import { atMostOne, objectSchema, schemaRef, type JsonSchema } from "./spec.js";

export const WIRE_SCHEMAS = {
  gap: "streamgate-gap-notice",
  undecoded: "streamgate-undecoded-event",
  publishResult: "streamgate-publish-result",
  error: "streamgate-error",
  webhookHeaders: "streamgate-webhook-headers",
  cloudEventsHeaders: "streamgate-cloudevents-headers",
} as const;

export const envelopeSchemaName = (event: EventDefinition) => `${event.type}-envelope`;
export const publishSchemaName = (event: EventDefinition) => `${event.type}-publish`;

export const OFFSET: JsonSchema = { type: "integer", minimum: 1, maximum: MAX_OFFSET };
export const EVENT_ID: JsonSchema = { type: "string", pattern: EVENT_ID_PATTERN.source };
const STREAM_NAME: JsonSchema = { type: "string", pattern: STREAM_NAME_PATTERN.source };
const TIME: JsonSchema = { type: "string", format: "date-time", description: "when the backbone stored the event (RFC 3339, UTC)" };
const DECIMAL_HEADER: JsonSchema = { type: "string", pattern: "^[0-9]+$" };
export const ERROR_CODE: JsonSchema = { type: "string", enum: Object.keys(ERROR_CATALOG) };
export const STREAM_RANGE = { first_offset: { type: "integer", minimum: 0 }, last_offset: { type: "integer", minimum: 0 } } satisfies Record<string, JsonSchema>;
export const GAP_FIELDS = {
  stream: STREAM_NAME,
  requested: { type: "integer", minimum: 0 },
  first: { type: "integer", minimum: 0 },
  epoch: { type: "string" },
} satisfies Record<string, JsonSchema>;

/** Where a read starts (PROTOCOL.md section 3), in a query or a subscribe frame: at most one of from, since, last. */
export const POSITION_FIELDS = {
  from: { anyOf: [OFFSET, { type: "string", enum: ["first", "now"] }], description: "an offset (inclusive), the oldest retained event, or only events stored from now on (the default)" },
  since: { type: "string", format: "date-time", description: "the first event stored at or after this time" },
  last: { type: "integer", minimum: 1, maximum: MAX_LAST, description: "the last n events, then live" },
  epoch: { type: "string", description: "the epoch the client knew: when the stream was re-created since, a gap notice says so" },
} satisfies Record<string, JsonSchema>;
export const ONE_POSITION = atMostOne(["from", "since", "last"], "at most one position");

/** The wire schemas of every event type of `streams`, and those every stream shares. */
export function wireSchemas(streams: readonly StreamDefinition[]): Record<string, JsonSchema> {
  const perType = streams.flatMap((stream) =>
    stream.events.flatMap((event) => [
      [envelopeSchemaName(event), envelopeSchema(stream, event)] as const,
      [publishSchemaName(event), publishSchema(stream, event)] as const,
    ]),
  );
  return { ...Object.fromEntries(perType), ...sharedSchemas() };
}

/** What a read of the stream may deliver: an envelope of each of its types, or an undecodable event. */
export function envelopeSchemas(stream: StreamDefinition): JsonSchema[] {
  return [...stream.events.map((event) => schemaRef(envelopeSchemaName(event))), schemaRef(WIRE_SCHEMAS.undecoded)];
}

function envelopeSchema(stream: StreamDefinition, event: EventDefinition): JsonSchema {
  return objectSchema(
    {
      stream: { const: stream.name },
      offset: OFFSET,
      id: EVENT_ID,
      type: { const: event.type },
      key: { type: "string", minLength: 1, description: `the entity the event is about${keyOrigin(event)}; left out when there is none` },
      time: TIME,
      data: schemaRef(event.type),
    },
    ["stream", "offset", "id", "type", "time", "data"],
    `A ${event.type} event of stream ${stream.name}, data in canonical proto3 JSON.`,
  );
}

/** POST /v1/streams/{stream}/events as JSON. */
function publishSchema(stream: StreamDefinition, event: EventDefinition): JsonSchema {
  const { properties, required } = publishFields(stream, event);
  return objectSchema(properties, required);
}

/** The fields of a JSON publish (HTTP body or WebSocket frame); `type` may be left out where the stream has one type. */
export function publishFields(stream: StreamDefinition, event: EventDefinition): { properties: Record<string, JsonSchema>; required: string[] } {
  return {
    properties: {
      type: { const: event.type },
      data: schemaRef(event.type),
      key: { type: "string", description: `the event's key${keyOrigin(event)}` },
      id: { ...EVENT_ID, description: "the idempotency key; one is made when left out" },
    },
    required: stream.events.length === 1 ? ["data"] : ["type", "data"],
  };
}

function keyOrigin(event: EventDefinition): string {
  return event.keyField ? ` (unless given, the value of data.${event.keyField.jsonName})` : "";
}

function sharedSchemas(): Record<string, JsonSchema> {
  return {
    [WIRE_SCHEMAS.gap]: objectSchema(
      GAP_FIELDS,
      Object.keys(GAP_FIELDS),
      "Events asked for are gone (retention) or the epoch changed: delivery goes on from `first`.",
    ),
    [WIRE_SCHEMAS.undecoded]: objectSchema(
      {
        stream: STREAM_NAME,
        offset: OFFSET,
        id: EVENT_ID,
        type: { type: "string" },
        key: { type: "string", minLength: 1 },
        time: TIME,
        data: { type: "null" },
        dataBase64: { type: "string", contentEncoding: "base64", pattern: BASE64_PATTERN, description: "the stored message bytes" },
      },
      ["stream", "offset", "id", "type", "time", "data", "dataBase64"],
      "An event the gateway could not decode (a type it does not know, or bad bytes): delivered raw, never dropped.",
    ),
    [WIRE_SCHEMAS.publishResult]: objectSchema(
      { offset: OFFSET, id: EVENT_ID, duplicate: { type: "boolean", description: "the id was stored before, within the duplicate window; offset is that event's" } },
      ["offset", "id", "duplicate"],
    ),
    [WIRE_SCHEMAS.error]: objectSchema(
      {
        error: objectSchema(
          {
            code: ERROR_CODE,
            message: { type: "string" },
            details: { type: "array", items: objectSchema({ path: { type: "string" }, message: { type: "string" } }, ["path", "message"]) },
          },
          ["code", "message"],
        ),
      },
      ["error"],
      "Every error response; 429 and 503 come with Retry-After.",
    ),
    [WIRE_SCHEMAS.webhookHeaders]: webhookHeaders({ "content-type": { const: "application/json" } }, []),
    [WIRE_SCHEMAS.cloudEventsHeaders]: webhookHeaders(
      {
        "content-type": { type: "string", enum: ["application/json", "application/x-protobuf"], description: "application/x-protobuf: the raw bytes of an event the gateway could not decode" },
        "ce-specversion": { const: "1.0" },
        "ce-id": EVENT_ID,
        "ce-type": { type: "string" },
        "ce-source": { type: "string", pattern: "^/streams/" },
        "ce-time": TIME,
        "ce-subject": { type: "string", description: "the event's key" },
      },
      ["ce-specversion", "ce-id", "ce-type", "ce-source", "ce-time"],
    ),
  };
}

/** Standard Webhooks signing and streamgate's own headers; the webhook's configured headers come too. */
function webhookHeaders(extra: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return {
    type: "object",
    properties: {
      "webhook-id": { ...EVENT_ID, description: "the event id: the same on every attempt and replay" },
      "webhook-timestamp": { ...DECIMAL_HEADER, description: "unix seconds of this attempt" },
      "webhook-signature": {
        type: "string",
        pattern: "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$",
        description: 'base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed by the secret; several during a rotation',
      },
      "streamgate-stream": STREAM_NAME,
      "streamgate-offset": DECIMAL_HEADER,
      "streamgate-attempt": DECIMAL_HEADER,
      ...extra,
    },
    required: ["webhook-id", "webhook-timestamp", "webhook-signature", "streamgate-stream", "streamgate-offset", "streamgate-attempt", "content-type", ...required],
  };
}
