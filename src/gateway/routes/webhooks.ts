import type { FastifyPluginAsync, FastifyRequest, FastifySchema } from "fastify";
import { allows, authorize } from "../../auth/grants.js";
import { principalOf } from "../../auth/http.js";
import type { z } from "zod";
import { createWebhookInput, patchWebhookInput, replayInput } from "../../webhooks/registration.js";
import type { WebhookService } from "../../webhooks/service.js";
import { invalidShape } from "../../publishing/event-input.js";
import { integerParam, type Query } from "@streamgate/protocol/read-spec";
import { errorResponses } from "../../openapi/errors.js";
import { jsonSchemaOf, ref, type JsonSchema } from "../../openapi/json-schema.js";
import { querySchema } from "../../openapi/query.js";
import {
  attemptsSchema,
  createdWebhookSchema,
  deadLettersSchema,
  replayedWebhookSchema,
  rotatedWebhookSchema,
  webhookParameter,
  webhookSchema,
} from "../../openapi/webhook-shapes.js";

const LIMIT = { min: 1, max: 1000, fallback: 100 };

/** The OpenAPI description of a route on one webhook: not_found when there is none by that id. */
function onWebhook(summary: string, success: Record<string, JsonSchema>, more: Pick<FastifySchema, "body" | "querystring"> = {}): FastifySchema {
  return { summary, tags: ["webhooks"], params: webhookParameter, ...more, response: { ...success, ...errorResponses("not_found") } };
}

const limitQuery = querySchema({ limit: { type: "integer", minimum: LIMIT.min, maximum: LIMIT.max, default: LIMIT.fallback, description: "at most this many, newest first" } });

/** The registration API of PROTOCOL.md section 6. */
export const webhookRoutes: FastifyPluginAsync<{ service: WebhookService }> = async (app, { service }) => {
  type ById = { Params: { id: string } };
  const body = <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> => {
    const parsed = schema.safeParse(value ?? {});
    if (!parsed.success) throw invalidShape(parsed.error);
    return parsed.data;
  };

  // Managing a webhook is `admin` on its stream (PROTOCOL.md section 9.2); a webhook of a
  // stream the credential may not manage is refused, not hidden, so an id cannot be probed for.
  const admin = (request: FastifyRequest, stream: string) => authorize(principalOf(request), { action: "admin", stream });
  app.addHook("preHandler", async (request: FastifyRequest<Partial<ById>>) => {
    const id = request.params?.id;
    if (id === undefined) return;
    const webhook = await service.find(id);
    admin(request, webhook?.stream ?? "*");
  });

  const createSchema = {
    summary: "Register a webhook: every event of the stream from the position on, POSTed, signed, retried",
    tags: ["webhooks"],
    body: jsonSchemaOf(createWebhookInput, "at most one of from, since and last (default: from now)"),
    response: { 201: ref(createdWebhookSchema, "The webhook, with its secret and any gap notice"), ...errorResponses("not_found") },
  };
  app.post("/v1/webhooks", { schema: createSchema }, async (request, reply) => {
    const input = body(createWebhookInput, request.body);
    admin(request, input.stream);
    return reply.code(201).send(await service.create(input));
  });
  const listSchema = {
    summary: "The webhooks of the streams the credential may manage",
    tags: ["webhooks"],
    response: { 200: { description: "Each webhook", type: "object", properties: { webhooks: { type: "array", items: ref(webhookSchema) } }, required: ["webhooks"] } },
  };
  app.get("/v1/webhooks", { schema: listSchema }, async (request) => {
    const principal = principalOf(request);
    return { webhooks: (await service.list()).filter((w) => allows(principal, { action: "admin", stream: w.stream })) };
  });
  const webhookAnswer = { 200: ref(webhookSchema, "The webhook") };
  app.get<ById>("/v1/webhooks/:id", { schema: onWebhook("One webhook, its position and counts", webhookAnswer) }, async (request) => service.get(request.params.id));
  const patchSchema = onWebhook("Change a webhook's url, filters (null clears one), headers, delivery settings or pause it", webhookAnswer, {
    body: jsonSchemaOf(patchWebhookInput),
  });
  app.patch<ById>("/v1/webhooks/:id", { schema: patchSchema }, async (request) => service.patch(request.params.id, body(patchWebhookInput, request.body)));
  const deleteSchema = onWebhook("Delete a webhook, its progress and logs", { 204: { description: "Deleted", type: "null" } });
  app.delete<ById>("/v1/webhooks/:id", { schema: deleteSchema }, async (request, reply) => {
    await service.delete(request.params.id);
    return reply.code(204).send();
  });
  const replaySchema = onWebhook("Restart delivery at a position", { 200: ref(replayedWebhookSchema, "The webhook, with any gap notice") }, {
    body: jsonSchemaOf(replayInput, "at most one of from, since and last"),
  });
  app.post<ById>("/v1/webhooks/:id/replay", { schema: replaySchema }, async (request) => service.replay(request.params.id, body(replayInput, request.body)));
  const rotateSchema = onWebhook("A new secret; for 24 h both sign", { 200: ref(rotatedWebhookSchema, "The webhook, with its new secret") });
  app.post<ById>("/v1/webhooks/:id/rotate-secret", { schema: rotateSchema }, async (request) => service.rotateSecret(request.params.id));
  const limitOf = (query: Query) => integerParam(query, "limit", LIMIT.min, LIMIT.max, LIMIT.fallback);
  const attemptsRoute = { schema: onWebhook("The delivery log", { 200: ref(attemptsSchema, "Attempts and gaps, newest first") }, { querystring: limitQuery }) };
  app.get<ById & { Querystring: Query }>("/v1/webhooks/:id/attempts", attemptsRoute, async (request) => ({
    attempts: await service.attempts(request.params.id, limitOf(request.query)),
  }));
  const deadLettersRoute = { schema: onWebhook("Events that ran out of retries", { 200: ref(deadLettersSchema, "Dead letters, newest first") }, { querystring: limitQuery }) };
  app.get<ById & { Querystring: Query }>("/v1/webhooks/:id/dead-letters", deadLettersRoute, async (request) => ({
    deadLetters: await service.deadLetters(request.params.id, limitOf(request.query)),
  }));
  const redeliverSchema = onWebhook("Deliver the dead letters again", {
    200: { description: "How many", type: "object", properties: { redelivered: { type: "integer", minimum: 0 } }, required: ["redelivered"] },
  });
  app.post<ById>("/v1/webhooks/:id/dead-letters/redeliver", { schema: redeliverSchema }, async (request) => ({
    redelivered: await service.redeliver(request.params.id),
  }));
};
