import type { PollBatch } from "@streamgate/protocol/codec";
import type { Envelope, StreamInfo } from "@streamgate/protocol/envelope";
import type { GapNotice } from "@streamgate/protocol/position";
import type { PublishResult } from "@streamgate/protocol/publish";
import { component, count, objectSchema, offset, optional, ref, text, time, type JsonSchema, type PropertiesOf } from "./json-schema.js";

/** The path parameters of a route, each a string segment. */
export function pathParameters(parameters: Record<string, string>): JsonSchema {
  return {
    type: "object",
    properties: Object.fromEntries(Object.entries(parameters).map(([name, description]) => [name, { type: "string", description }])),
    required: Object.keys(parameters),
  };
}

export const streamParameter = pathParameters({ stream: "the stream's name" });

export const gapNoticeProperties: PropertiesOf<GapNotice> = {
  stream: text,
  requested: { ...offset, description: "the offset asked for" },
  first: { ...offset, description: "the oldest offset retained, where delivery continues" },
  epoch: text,
};

/** PROTOCOL.md section 3: delivered instead of a silent skip. */
export const gapNoticeSchema = component(
  "GapNotice",
  objectSchema<GapNotice>(gapNoticeProperties, "Events asked for are gone (retention) or the epoch changed: delivery continues from `first`."),
);

/** PROTOCOL.md section 2. */
export const envelopeSchema = component(
  "Envelope",
  objectSchema<Envelope>(
    {
      stream: text,
      offset,
      id: text,
      type: text,
      key: optional(text),
      time: { ...time, description: "when the backbone stored the event" },
      data: { description: "the message in canonical proto3 JSON; null when the gateway cannot decode it" },
      dataBase64: optional({ type: "string", contentEncoding: "base64", description: "the payload, only when data is null" }),
    },
    "An event, as every protocol delivers it.",
  ),
);

export const streamInfoSchema = component(
  "StreamInfo",
  objectSchema<StreamInfo>({
    name: text,
    description: text,
    types: { type: "array", items: text },
    first_offset: count,
    last_offset: count,
    events: count,
    bytes: count,
    epoch: text,
    created: time,
  }),
);

export const publishResultSchema = component(
  "PublishResult",
  objectSchema<PublishResult>({
    offset,
    id: text,
    duplicate: { type: "boolean", description: "the id was stored before, within the duplicate window; offset is where" },
  }),
);

export const pollBatchSchema = component(
  "PollBatch",
  objectSchema<PollBatch<Envelope>>({
    events: { type: "array", items: ref(envelopeSchema) },
    next: { ...offset, description: "the offset to pass as from= next time" },
    first_offset: count,
    last_offset: count,
    gap: optional(ref(gapNoticeSchema)),
  }),
);

export const streamComponents = [gapNoticeSchema, envelopeSchema, streamInfoSchema, publishResultSchema, pollBatchSchema];
