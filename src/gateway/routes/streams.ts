import type { FastifyPluginAsync } from "fastify";
import type { JetStreamManager } from "@nats-io/jetstream";
import { requireStream, type Schemas } from "../../schema/registry.js";
import type { StreamDefinition } from "../../schema/definitions.js";
import { readStreamState } from "../../backbone/stream-state.js";
import { authorize, mayRead } from "../../auth/grants.js";
import { principalOf } from "../../auth/http.js";
import { errorResponses } from "../../openapi/errors.js";
import { ref } from "../../openapi/json-schema.js";
import { streamInfoSchema, streamParameter } from "../../openapi/stream-shapes.js";

export interface StreamsRouteOptions {
  jsm: JetStreamManager;
  schemas: Schemas;
}

/** GET /v1/streams and GET /v1/streams/{stream}: StreamInfo of PROTOCOL.md section 4. */
export const streamRoutes: FastifyPluginAsync<StreamsRouteOptions> = async (app, { jsm, schemas }) => {
  async function streamInfo(stream: StreamDefinition) {
    const state = await readStreamState(jsm, stream.name);
    return {
      name: stream.name,
      description: stream.description,
      types: stream.events.map((e) => e.type),
      first_offset: state.firstOffset,
      last_offset: state.lastOffset,
      events: state.events,
      bytes: state.bytes,
      epoch: state.epoch,
      created: state.created,
    };
  }

  // Only the streams the credential may read are listed, or described.
  const listSchema = {
    summary: "The streams the credential may read",
    tags: ["streams"],
    response: { 200: { description: "StreamInfo of each", type: "object", properties: { streams: { type: "array", items: ref(streamInfoSchema) } }, required: ["streams"] } },
  };
  app.get("/v1/streams", { schema: listSchema }, async (request) => {
    const principal = principalOf(request);
    return { streams: await Promise.all([...schemas.streams.values()].filter((s) => mayRead(principal, s.name)).map(streamInfo)) };
  });

  const infoSchema = {
    summary: "One stream: its types, offsets, size and epoch",
    tags: ["streams"],
    params: streamParameter,
    response: { 200: ref(streamInfoSchema, "StreamInfo"), ...errorResponses("not_found") },
  };
  app.get<{ Params: { stream: string } }>("/v1/streams/:stream", { schema: infoSchema }, async (request) => {
    const stream = requireStream(schemas, request.params.stream);
    const principal = principalOf(request);
    if (!mayRead(principal, stream.name)) authorize(principal, { action: "subscribe", stream: stream.name });
    return streamInfo(stream);
  });
};
