/** Publishing to a stream over HTTP (PROTOCOL.md section 4): one event, or a batch. */
import { MAX_BATCH } from "@streamgate/protocol/publish";
import type { StreamDefinition } from "../schema/definitions.js";
import { operationOn, publishDescription, streamId, type ChannelSet } from "./channel-set.js";
import { httpBinding, messageRef, objectSchema, schemaRef, serverRef, type Message, type Ref } from "./spec.js";
import { publishSchemaName, WIRE_SCHEMAS } from "./wire-schemas.js";

const RESULT_AND_ERROR = [WIRE_SCHEMAS.publishResult, WIRE_SCHEMAS.error];

/** Nothing to publish on a stream without event types. */
export function publishChannels(stream: StreamDefinition): ChannelSet {
  if (stream.events.length === 0) return { channels: {}, operations: {} };
  const one = streamId(stream, "events");
  const batch = streamId(stream, "eventsBatch");
  const requests = Object.fromEntries(
    stream.events.map((event): [string, Message] => [
      event.type,
      {
        name: event.type,
        title: `Publish ${event.type}`,
        contentType: "application/json",
        headers: { type: "object", properties: { "idempotency-key": { type: "string", description: "the event id, when the body has none" } } },
        payload: schemaRef(publishSchemaName(event)),
      },
    ]),
  );
  const errorRef: Record<string, Ref> = { [WIRE_SCHEMAS.error]: messageRef(WIRE_SCHEMAS.error) };
  const batchRequest = "streamgate-publish-batch";
  const batchResults = "streamgate-publish-batch-results";
  return {
    channels: {
      [one]: {
        address: `/v1/streams/${stream.name}/events`,
        title: `Publish to ${stream.name}`,
        description: publishDescription(
          stream,
          "201 with the offset; 200 with duplicate: true when the id was stored before. Data is checked strictly against the type: " +
          "a 400 names the field. Also takes Content-Type: application/x-protobuf, the type in Streamgate-Type and the key in Streamgate-Key.",
        ),
        servers: [serverRef("http")],
        messages: { ...requests, [WIRE_SCHEMAS.publishResult]: messageRef(WIRE_SCHEMAS.publishResult), ...errorRef },
      },
      [batch]: {
        address: `/v1/streams/${stream.name}/events:batch`,
        title: `Publish a batch to ${stream.name}`,
        description: publishDescription(stream, "Every event is checked before any is stored: one bad event refuses the batch."),
        servers: [serverRef("http")],
        messages: {
          [batchRequest]: {
            name: batchRequest,
            contentType: "application/json",
            payload: objectSchema({ events: { type: "array", minItems: 1, maxItems: MAX_BATCH, items: { anyOf: stream.events.map((event) => schemaRef(publishSchemaName(event))) } } }, ["events"]),
          },
          [batchResults]: {
            name: batchResults,
            contentType: "application/json",
            payload: objectSchema({ results: { type: "array", items: schemaRef(WIRE_SCHEMAS.publishResult) } }, ["results"]),
          },
          ...errorRef,
        },
      },
    },
    operations: {
      [streamId(stream, "publish")]: operationOn(one, { action: "send", title: `Publish an event to ${stream.name}`, bindings: httpBinding("POST") }, Object.keys(requests), RESULT_AND_ERROR),
      [streamId(stream, "publishBatch")]: operationOn(batch, { action: "send", title: `Publish events to ${stream.name}`, bindings: httpBinding("POST") }, [batchRequest], [
        batchResults,
        WIRE_SCHEMAS.error,
      ]),
    },
  };
}
