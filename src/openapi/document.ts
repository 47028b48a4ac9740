import swagger, { type SwaggerTransform } from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { CREDENTIAL_COOKIE, CREDENTIAL_QUERY_PARAMETER } from "../auth/credential.js";
import { VERSION } from "../version.js";
import { commonErrorResponses, errorBodySchema } from "./errors.js";
import { streamComponents } from "./stream-shapes.js";
import { webhookComponents } from "./webhook-shapes.js";

const OPENAPI_PATH = "/v1/openapi.json";

export interface OpenApiOptions {
  /** PROTOCOL.md section 9: with auth on, every route but the public ones asks for a credential. */
  authRequired: boolean;
  allowQueryToken: boolean;
}

/**
 * The OpenAPI 3.1 document of the HTTP API, made by @fastify/swagger from the routes' own
 * schemas and served at GET /v1/openapi.json. Called before any route is declared: swagger
 * sees only the routes declared after it is registered.
 */
export function describeRoutes(app: FastifyInstance, options: OpenApiOptions): void {
  // Route schemas describe. Each route's own code still validates (zod, the read-spec parsers)
  // and answers in the protocol's words, and replies are serialized as they always were: a
  // schema checked by fastify would refuse with other messages, and one serialized by it
  // would drop fields.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const shared of [errorBodySchema, ...streamComponents, ...webhookComponents]) app.addSchema(shared);

  const schemes = {
    jwt: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An access token of a configured issuer: Authorization: Bearer <token>." },
    apiKey: { type: "http", scheme: "bearer", bearerFormat: "sgk_ API key", description: "An API key for servers: Authorization: Bearer sgk_..." },
    cookie: { type: "apiKey", in: "cookie", name: CREDENTIAL_COOKIE, description: "A token or key in the HttpOnly cookie, for EventSource and WebSocket in browsers." },
    ...(options.allowQueryToken && {
      queryToken: { type: "apiKey", in: "query", name: CREDENTIAL_QUERY_PARAMETER, description: "Allowed by auth.allowQueryToken (URLs end up in logs)." } as const,
    }),
  } as const;
  void app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "streamgate",
        version: VERSION,
        description:
          "The HTTP face of the streamgate gateway; docs/protocol.md is the contract. Reads over WebSocket are upgrades of the GET routes described here. " +
          "This document is public, with auth on too: it describes the API, not its streams.",
      },
      components: { securitySchemes: schemes },
      ...(options.authRequired && { security: Object.keys(schemes).map((name) => ({ [name]: [] })) }),
      tags: [
        { name: "streams", description: "The declared streams and their offsets" },
        { name: "publish", description: "Storing events (PROTOCOL.md section 4)" },
        { name: "read", description: "SSE, long polling and WebSocket, from any position (sections 3 and 5)" },
        { name: "webhooks", description: "Durable, signed deliveries (section 6)" },
        { name: "operations", description: "Health, readiness, metrics and this document (section 7)" },
      ],
    },
    // Shared schemas become components under their own names (Error, not def-0).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
    transform: documented,
  });
  void app.register(async (scope) => {
    scope.get(
      OPENAPI_PATH,
      {
        schema: {
          summary: "This document",
          tags: ["operations"],
          security: [],
          response: { 200: { description: "The OpenAPI 3.1 document of the HTTP API", type: "object" } },
        },
      },
      async () => scope.swagger(),
    );
  });
}

/**
 * Every described route also answers with the errors any request may meet. A route without a
 * schema is left bare, so the test that every route is described finds it.
 */
const documented: SwaggerTransform = ({ schema, url, route }) => {
  // @fastify/websocket hides the routes it upgrades; ours are described as the upgrades they are.
  const hidden = schema?.hide === true && route.websocket !== true;
  if (!schema || hidden) return { schema, url };
  const own = typeof schema.response === "object" && schema.response !== null ? schema.response : {};
  const common = Object.entries(commonErrorResponses).filter(([status]) => !(status in own));
  return { schema: { ...schema, hide: false, response: { ...own, ...Object.fromEntries(common) } }, url };
};
