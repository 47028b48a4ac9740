import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { z } from "zod";
import type { EventToStore, StoreResult } from "../backbone/publish.js";
import { requireStream, type Schemas } from "../schema/registry.js";
import { ApiError } from "@streamgate/protocol/errors";
import { EVENT_ID_PATTERN, jsonEventInput, MAX_BATCH } from "@streamgate/protocol/publish";
import { errorResponses } from "../openapi/errors.js";
import { jsonSchemaOf, ref } from "../openapi/json-schema.js";
import { publishResultSchema, streamParameter } from "../openapi/stream-shapes.js";
import { invalidShape } from "./event-input.js";
import type { Publisher } from "./publisher.js";


const batchInput = z.object({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

const PUBLISH_ERRORS = errorResponses("not_found", "payload_too_large", "unsupported_media_type", "rate_limited");
const eventBody = jsonSchemaOf(jsonEventInput, "data is canonical proto3 JSON of the type, checked strictly; type may be left out when the stream has one event type");

const publishSchema = {
  summary: "Publish one event",
  tags: ["publish"],
  params: streamParameter,
  headers: {
    type: "object",
    properties: {
      "Idempotency-Key": { type: "string", pattern: EVENT_ID_PATTERN.source, description: "the event's id: publishing it again within the duplicate window stores nothing new" },
      "Streamgate-Type": { type: "string", description: "with a protobuf body: the event type" },
      "Streamgate-Key": { type: "string", description: "with a protobuf body: the key, else the message's key field" },
    },
  },
  body: {
    content: {
      "application/json": { schema: eventBody },
      "application/x-protobuf": { schema: { type: "string", format: "binary", description: "the encoded message of the type Streamgate-Type names" } },
    },
  },
  response: {
    201: ref(publishResultSchema, "Stored"),
    200: ref(publishResultSchema, "A duplicate: the id was stored before, at this offset"),
    ...PUBLISH_ERRORS,
  },
};

const batchSchema = {
  summary: `Publish up to ${MAX_BATCH} events at once: every one is checked before the first is stored`,
  tags: ["publish"],
  params: streamParameter,
  // Its events are checked one by one against the single event's body, so that an error names
  // the event; the document says what each is.
  body: { ...jsonSchemaOf(batchInput), properties: { events: { ...jsonSchemaOf(batchInput.shape.events), items: eventBody } } },
  response: {
    201: {
      description: "Stored, each in order (a duplicate says so)",
      type: "object",
      properties: { results: { type: "array", items: ref(publishResultSchema) } },
      required: ["results"],
    },
    ...PUBLISH_ERRORS,
  },
};

export interface PublishRouteOptions {
  schemas: Schemas;
  publisher: Publisher;
}

/** POST /v1/streams/{stream}/events and …/events:batch (PROTOCOL.md section 4). */
export const publishRoutes: FastifyPluginAsync<PublishRouteOptions> = async (app, { schemas, publisher }) => {
  // Events come as JSON or protobuf, nothing else: other types are 415s.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("application/x-protobuf", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.post<{ Params: { stream: string } }>("/v1/streams/:stream/events", { schema: publishSchema }, async (request, reply) => {
    const stream = requireStream(schemas, request.params.stream);
    const idempotencyKey = header(request.headers["idempotency-key"]);
    let event: EventToStore;
    if (Buffer.isBuffer(request.body)) {
      event = publisher.binary(stream, {
        type: header(request.headers["streamgate-type"]),
        key: header(request.headers["streamgate-key"]),
        id: idempotencyKey,
        data: request.body,
      });
    } else {
      const parsed = jsonEventInput.safeParse(request.body);
      if (!parsed.success) throw invalidShape(parsed.error);
      if (idempotencyKey !== undefined && parsed.data.id !== undefined && parsed.data.id !== idempotencyKey) {
        throw new ApiError("invalid_argument", "the Idempotency-Key header and the body's id differ");
      }
      event = publisher.json(stream, { ...parsed.data, id: parsed.data.id ?? idempotencyKey });
    }
    return sendStored(reply, await publisher.store(event, request.principal, "http"));
  });

  app.post<{ Params: { stream: string } }>("/v1/streams/:stream/events::batch", { schema: batchSchema }, async (request, reply) => {
    const stream = requireStream(schemas, request.params.stream);
    if (Buffer.isBuffer(request.body)) {
      throw new ApiError("unsupported_media_type", "a batch is JSON: {\"events\": [...]}");
    }
    const parsed = batchInput.safeParse(request.body);
    if (!parsed.success) throw invalidShape(parsed.error);
    // Every event is checked before the first is stored.
    const events = parsed.data.events.map((input, i) => {
      const shaped = jsonEventInput.safeParse(input);
      if (!shaped.success) throw invalidShape(shaped.error, `events[${i}].`);
      return publisher.json(stream, shaped.data, `events[${i}].`);
    });
    return reply.code(201).send({ results: await publisher.storeAll(events, request.principal) });
  });
};

function sendStored(reply: FastifyReply, result: StoreResult) {
  return reply.code(result.duplicate ? 200 : 201).send(result);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
