/** A stream's webhook deliveries (PROTOCOL.md section 6): the POSTs the gateway makes to a registered URL. */
import type { StreamDefinition } from "../schema/definitions.js";
import { operationOn, readDescription, streamId, type ChannelSet } from "./channel-set.js";
import { httpBinding, schemaRef, serverRef, type Message } from "./spec.js";
import { envelopeSchemaName, WIRE_SCHEMAS } from "./wire-schemas.js";

export const WEBHOOK_SERVER = "webhook-receiver";

export function webhookChannel(stream: StreamDefinition): ChannelSet {
  const id = streamId(stream, "webhook");
  const messages: Record<string, Message> = {};
  for (const event of stream.events) {
    messages[event.type] = {
      name: event.type,
      title: `${event.type}, as the envelope (format "envelope", the default)`,
      contentType: "application/json",
      headers: schemaRef(WIRE_SCHEMAS.webhookHeaders),
      payload: schemaRef(envelopeSchemaName(event)),
    };
    messages[`${event.type}-cloudevent`] = {
      name: `${event.type}-cloudevent`,
      title: `${event.type}, as a CloudEvent (format "cloudevents": binary mode, the body is data)`,
      contentType: "application/json",
      headers: schemaRef(WIRE_SCHEMAS.cloudEventsHeaders),
      payload: schemaRef(event.type),
    };
  }
  messages[WIRE_SCHEMAS.undecoded] = {
    name: WIRE_SCHEMAS.undecoded,
    title: 'An event the gateway could not decode (format "envelope"; a CloudEvent carries the raw bytes as application/x-protobuf)',
    contentType: "application/json",
    headers: schemaRef(WIRE_SCHEMAS.webhookHeaders),
    payload: schemaRef(WIRE_SCHEMAS.undecoded),
  };
  return {
    channels: {
      [id]: {
        address: null,
        title: `${stream.name} delivered to webhooks`,
        description: readDescription(
          stream,
          `A webhook registered with POST /v1/webhooks {"url", "stream": "${stream.name}", ...} gets one POST per event, at least once, ` +
            "signed as Standard Webhooks say and retried on its schedule. A 2xx within timeoutMs is delivered; 410 disables the webhook; " +
            "429 and 503 are retried after their Retry-After. Redirects are not followed.",
        ),
        servers: [serverRef(WEBHOOK_SERVER)],
        messages,
      },
    },
    operations: {
      [streamId(stream, "webhookReceive")]: operationOn(
        id,
        { action: "receive", title: `Receive ${stream.name} at a webhook`, bindings: httpBinding("POST") },
        Object.keys(messages),
      ),
    },
  };
}
