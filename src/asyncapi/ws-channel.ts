/** A stream over the WebSocket of PROTOCOL.md section 5.4, subprotocol streamgate.v1.json: its frames. */
import { MAX_ID_LENGTH, SUBPROTOCOLS } from "@streamgate/protocol/codec";
import type { StreamDefinition } from "../schema/definitions.js";
import { operationOn, readDescription, streamId, type ChannelSet } from "./channel-set.js";
import { objectSchema, schemaRef, serverRef, type JsonSchema, type Message } from "./spec.js";
import { envelopeSchemaName, ERROR_CODE, EVENT_ID, GAP_FIELDS, OFFSET, ONE_POSITION, POSITION_FIELDS, publishFields, STREAM_RANGE, WIRE_SCHEMAS } from "./wire-schemas.js";

const CLIENT_ID: JsonSchema = { type: "string", minLength: 1, maxLength: MAX_ID_LENGTH };

export function wsChannel(stream: StreamDefinition): ChannelSet {
  const id = streamId(stream, "ws");
  const own = { stream: { const: stream.name } } satisfies Record<string, JsonSchema>;
  const subscribe = frame("subscribe", "Subscribe", {
    properties: {
      sub: { ...CLIENT_ID, description: "the subscription's id, chosen by the client" },
      ...own,
      ...POSITION_FIELDS,
      types: { type: "array", items: { type: "string", ...(stream.events.length > 0 && { enum: stream.events.map((e) => e.type) }) } },
      key: { type: "string" },
    },
    required: ["sub", "stream"],
    allOf: [ONE_POSITION],
  });
  const events = Object.fromEntries([
    ...stream.events.map((event) => [`${event.type}-event`, eventFrame(event.type, schemaRef(envelopeSchemaName(event)))] as const),
    ["ws-undecoded-event", eventFrame("an undecodable event", schemaRef(WIRE_SCHEMAS.undecoded))] as const,
  ]);
  const publishes = Object.fromEntries(
    stream.events.map((event) => {
      const { properties, required } = publishFields(stream, event);
      return [`${event.type}-publish`, frame("publish", `Publish ${event.type}`, { properties: { ref: CLIENT_ID, ...own, ...properties }, required: ["ref", "stream", ...required] })] as const;
    }),
  );
  const messages: Record<string, Message> = {
    "ws-subscribe": subscribe,
    "ws-subscribed": frame("subscribed", "Subscribed", { properties: { sub: CLIENT_ID, ...own, ...STREAM_RANGE, epoch: { type: "string" } }, required: ["sub", "stream", "first_offset", "last_offset", "epoch"] }),
    ...events,
    "ws-gap": frame("gap", "Gap notice", { properties: { sub: CLIENT_ID, ...GAP_FIELDS }, required: ["sub", ...Object.keys(GAP_FIELDS)] }),
    "ws-unsubscribe": frame("unsubscribe", "Unsubscribe", { properties: { sub: CLIENT_ID }, required: ["sub"] }),
    "ws-unsubscribed": frame("unsubscribed", "Unsubscribed", { properties: { sub: CLIENT_ID, reason: { type: "string" } }, required: ["sub"] }),
    ...publishes,
    "ws-published": frame("published", "Published", {
      properties: { ref: CLIENT_ID, offset: OFFSET, id: EVENT_ID, duplicate: { type: "boolean" } },
      required: ["ref", "offset", "id", "duplicate"],
    }),
    "ws-error": frame("error", "Error", {
      properties: { ref: CLIENT_ID, sub: CLIENT_ID, code: ERROR_CODE, message: { type: "string" } },
      required: ["code", "message"],
    }),
  };
  const publishing = stream.events.length > 0;
  return {
    channels: {
      [id]: {
        address: "/v1/ws",
        title: `${stream.name} over WebSocket`,
        description: readDescription(
          stream,
          `One connection, many subscriptions, as JSON text frames (subprotocol ${SUBPROTOCOLS.json}; ${SUBPROTOCOLS.proto} carries the same ` +
            `operations as streamgate.v1.ClientFrame and ServerFrame). /v1/streams/${stream.name}/ws?<position> is the same with one ` +
            `subscription made, sub = "${stream.name}". A bad frame gets an error frame; the connection stays open.`,
        ),
        servers: [serverRef("ws")],
        messages,
        bindings: {
          ws: { method: "GET", headers: { type: "object", properties: { "Sec-WebSocket-Protocol": { type: "string", enum: [SUBPROTOCOLS.json] } } }, bindingVersion: "0.1.0" },
        },
      },
    },
    operations: {
      [streamId(stream, "wsSubscribe")]: operationOn(id, { action: "send", title: `Subscribe to ${stream.name}` }, ["ws-subscribe"], ["ws-subscribed", "ws-error"]),
      [streamId(stream, "wsReceive")]: operationOn(id, { action: "receive", title: `Receive ${stream.name} events` }, [...Object.keys(events), "ws-gap", "ws-unsubscribed"]),
      [streamId(stream, "wsUnsubscribe")]: operationOn(id, { action: "send", title: `Unsubscribe from ${stream.name}` }, ["ws-unsubscribe"], ["ws-unsubscribed"]),
      ...(publishing && {
        [streamId(stream, "wsPublish")]: operationOn(id, { action: "send", title: `Publish to ${stream.name} over WebSocket` }, Object.keys(publishes), ["ws-published", "ws-error"]),
      }),
    },
  };
}

function eventFrame(what: string, envelope: JsonSchema): Message {
  return frame("event", `Event: ${what}`, { properties: { sub: CLIENT_ID, event: envelope }, required: ["sub", "event"] });
}

function frame(op: string, title: string, shape: { properties: Record<string, JsonSchema>; required: string[]; allOf?: JsonSchema[] }): Message {
  const payload = objectSchema({ op: { const: op }, ...shape.properties }, ["op", ...shape.required]);
  return { name: op, title, contentType: "application/json", payload: shape.allOf ? { ...payload, allOf: shape.allOf } : payload };
}
