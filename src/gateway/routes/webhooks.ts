import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { allows, authorize } from "../../auth/grants.js";
import { principalOf } from "../../auth/http.js";
import type { z } from "zod";
import { createWebhookInput, patchWebhookInput, replayInput } from "../../webhooks/registration.js";
import type { WebhookService } from "../../webhooks/service.js";
import { invalidShape } from "../../publishing/event-input.js";
import { integerParam, type Query } from "@streamgate/protocol/read-spec";

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

  app.post("/v1/webhooks", async (request, reply) => {
    const input = body(createWebhookInput, request.body);
    admin(request, input.stream);
    return reply.code(201).send(await service.create(input));
  });
  app.get("/v1/webhooks", async (request) => {
    const principal = principalOf(request);
    return { webhooks: (await service.list()).filter((w) => allows(principal, { action: "admin", stream: w.stream })) };
  });
  app.get<ById>("/v1/webhooks/:id", async (request) => service.get(request.params.id));
  app.patch<ById>("/v1/webhooks/:id", async (request) => service.patch(request.params.id, body(patchWebhookInput, request.body)));
  app.delete<ById>("/v1/webhooks/:id", async (request, reply) => {
    await service.delete(request.params.id);
    return reply.code(204).send();
  });
  app.post<ById>("/v1/webhooks/:id/replay", async (request) => service.replay(request.params.id, body(replayInput, request.body)));
  app.post<ById>("/v1/webhooks/:id/rotate-secret", async (request) => service.rotateSecret(request.params.id));
  app.get<ById & { Querystring: Query }>("/v1/webhooks/:id/attempts", { config: { query: ["limit"] } }, async (request) => {
    const limit = integerParam(request.query, "limit", 1, 1000, 100);
    return { attempts: await service.attempts(request.params.id, limit) };
  });
  app.get<ById & { Querystring: Query }>("/v1/webhooks/:id/dead-letters", { config: { query: ["limit"] } }, async (request) => {
    const limit = integerParam(request.query, "limit", 1, 1000, 100);
    return { deadLetters: await service.deadLetters(request.params.id, limit) };
  });
  app.post<ById>("/v1/webhooks/:id/dead-letters/redeliver", async (request) => ({
    redelivered: await service.redeliver(request.params.id),
  }));
};
