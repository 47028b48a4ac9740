import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { z } from "zod";
import type { EventToStore, StoreResult } from "../backbone/publish.js";
import { requireStream, type Schemas } from "../schema/registry.js";
import { ApiError } from "@streamgate/protocol/errors";
import { jsonEventInput } from "@streamgate/protocol/publish";
import { invalidShape } from "./event-input.js";
import type { Publisher } from "./publisher.js";

export const MAX_BATCH = 1000;

const batchInput = z.object({ events: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

export interface PublishRouteOptions {
  schemas: Schemas;
  publisher: Publisher;
}

/** POST /v1/streams/{stream}/events and …/events:batch (PROTOCOL.md section 4). */
export const publishRoutes: FastifyPluginAsync<PublishRouteOptions> = async (app, { schemas, publisher }) => {
  // Events come as JSON or protobuf, nothing else: other types are 415s.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("application/x-protobuf", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.post<{ Params: { stream: string } }>("/v1/streams/:stream/events", async (request, reply) => {
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

  app.post<{ Params: { stream: string } }>("/v1/streams/:stream/events::batch", async (request, reply) => {
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
