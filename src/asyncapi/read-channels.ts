/** Reading a stream over plain HTTP: Server-Sent Events and long polling (PROTOCOL.md sections 3, 5.1, 5.2). */
import { DEFAULT_POLL_EVENTS, DEFAULT_POLL_WAIT_S, MAX_POLL_EVENTS, MAX_POLL_WAIT_S } from "@streamgate/protocol/read-spec";
import type { StreamDefinition } from "../schema/definitions.js";
import { envelopeMessages, operationOn, readDescription, streamId, type ChannelOptions, type ChannelSet } from "./channel-set.js";
import { httpBinding, messageRef, objectSchema, schemaRef, serverRef, type JsonSchema } from "./spec.js";
import { envelopeSchemas, OFFSET, ONE_POSITION, POSITION_FIELDS, STREAM_RANGE, WIRE_SCHEMAS } from "./wire-schemas.js";

export function sseChannel(stream: StreamDefinition, options: ChannelOptions): ChannelSet {
  const id = streamId(stream, "sse");
  const messages = { ...envelopeMessages(stream), [WIRE_SCHEMAS.gap]: messageRef(WIRE_SCHEMAS.gap) };
  return {
    channels: {
      [id]: {
        address: `/v1/streams/${stream.name}/sse`,
        title: `${stream.name} over Server-Sent Events`,
        description: readDescription(
          stream,
          "Each event is one SSE message: `id: <offset>`, `data: <envelope>`, no `event:` field. A gap notice is the named event `gap`. " +
            "Resume with the Last-Event-ID header (or lastEventId=), which overrides the position. Several streams share one connection " +
            "at /v1/sse?streams=a,b (section 5.3 of the protocol).",
        ),
        servers: [serverRef("http")],
        messages,
      },
    },
    operations: {
      [streamId(stream, "sseReceive")]: operationOn(id, { action: "receive", title: `Read ${stream.name} over SSE`, bindings: httpBinding("GET", readQuery(stream, options, SSE_QUERY)) }, Object.keys(messages)),
    },
  };
}

export function pollChannel(stream: StreamDefinition, options: ChannelOptions): ChannelSet {
  const id = streamId(stream, "poll");
  const batch = "streamgate-poll-batch";
  return {
    channels: {
      [id]: {
        address: `/v1/streams/${stream.name}/poll`,
        title: `${stream.name} by long polling`,
        description: readDescription(
          stream,
          "Answers as soon as an event is there, or after `wait` seconds with none (`wait=0`: a short poll). Pass `next` as `from` to go on. " +
            "`Accept: application/x-protobuf` gets a streamgate.v1.EventBatch instead.",
        ),
        servers: [serverRef("http")],
        messages: {
          [batch]: {
            name: batch,
            title: `A batch of ${stream.name} events`,
            contentType: "application/json",
            payload: objectSchema(
              {
                events: { type: "array", maxItems: MAX_POLL_EVENTS, items: { anyOf: envelopeSchemas(stream) } },
                next: { ...OFFSET, description: "the offset to pass as from= next time" },
                ...STREAM_RANGE,
                gap: schemaRef(WIRE_SCHEMAS.gap),
              },
              ["events", "next", "first_offset", "last_offset"],
            ),
          },
        },
      },
    },
    operations: {
      [streamId(stream, "pollReceive")]: operationOn(id, { action: "receive", title: `Poll ${stream.name}`, bindings: httpBinding("GET", readQuery(stream, options, POLL_QUERY)) }, [batch]),
    },
  };
}

const SSE_QUERY: Record<string, JsonSchema> = {
  lastEventId: { type: "integer", minimum: 0, description: "resume after this offset, as the Last-Event-ID header does" },
};
const POLL_QUERY: Record<string, JsonSchema> = {
  max: { type: "integer", minimum: 1, maximum: MAX_POLL_EVENTS, description: `at most this many events (default ${DEFAULT_POLL_EVENTS})` },
  wait: { type: "number", minimum: 0, maximum: MAX_POLL_WAIT_S, description: `seconds to wait for an event (default ${DEFAULT_POLL_WAIT_S})` },
};

/** Where a read starts and what it filters (PROTOCOL.md section 3), and the protocol's own parameters. */
function readQuery(stream: StreamDefinition, options: ChannelOptions, own: Record<string, JsonSchema>): JsonSchema {
  return {
    ...objectSchema(
      {
        ...POSITION_FIELDS,
        types: { type: "string", description: `only these types, separated by commas: ${stream.events.map((e) => e.type).join(", ") || "(none declared)"}` },
        key: { type: "string", description: "only events with this key" },
        ...own,
        ...(options.queryToken && { access_token: { type: "string", description: "the credential, where the gateway allows it in the query" } }),
      },
      [],
    ),
    allOf: [ONE_POSITION],
  };
}
