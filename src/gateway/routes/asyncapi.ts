import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "@streamgate/protocol/errors";
import { asyncApiDocument, type DocumentOptions } from "../../asyncapi/document.js";
import { mayRead } from "../../auth/grants.js";
import { principalOf } from "../../auth/http.js";
import type { Schemas } from "../../schema/registry.js";
import { errorResponses } from "../../openapi/errors.js";

export interface AsyncApiRouteOptions {
  schemas: Schemas;
  auth: DocumentOptions["auth"];
}

/**
 * GET /v1/asyncapi.json: the AsyncAPI document of the streams the credential may read (as
 * GET /v1/streams lists them), its servers at the scheme and host the request came to.
 */
export const asyncApiRoutes: FastifyPluginAsync<AsyncApiRouteOptions> = async (app, { schemas, auth }) => {
  const schema = {
    summary: "The AsyncAPI 3.0.0 document of the streams the credential may read",
    tags: ["streams"],
    response: {
      200: { description: "Every readable stream as channels per protocol, each event type as a message with its payload's JSON Schema", type: "object", additionalProperties: true },
      ...errorResponses("invalid_argument"),
    },
  };
  app.get("/v1/asyncapi.json", { schema }, async (request) => {
    const principal = principalOf(request);
    const baseUrl = `${request.protocol}://${request.host}`;
    // Only on a gateway off loopback (where any Host is let in) can one arrive that names no host.
    if (!request.host || !URL.canParse(baseUrl)) {
      throw new ApiError("invalid_argument", `the Host header ${JSON.stringify(request.host ?? "")} names no host to put in the document's servers`);
    }
    const readable: Schemas = { registry: schemas.registry, streams: new Map([...schemas.streams].filter(([name]) => mayRead(principal, name))) };
    return asyncApiDocument(readable, { baseUrl, auth });
  });
};
