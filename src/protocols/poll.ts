import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/http.js";
import { Connection } from "../delivery/connection.js";
import type { Deliveries } from "../delivery/delivery.js";
import type { Limits } from "../delivery/limits.js";
import type { Shutdown } from "../delivery/shutdown.js";
import { DEFAULT_POLL_EVENTS, DEFAULT_POLL_WAIT_S, MAX_POLL_EVENTS, MAX_POLL_WAIT_S } from "@streamgate/protocol/read-spec";
import type { Metrics } from "../metrics/metrics.js";
import { ApiError } from "@streamgate/protocol/errors";
import { jsonCodec } from "@streamgate/protocol/json-codec";
import { protoCodec } from "@streamgate/protocol/proto-codec";
import { integerParam, readSpecFromQuery, single, type Query } from "@streamgate/protocol/read-spec";
import { errorResponses } from "../openapi/errors.js";
import { ref } from "../openapi/json-schema.js";
import { querySchema, readParameters } from "../openapi/query.js";
import { pollBatchSchema, streamParameter } from "../openapi/stream-shapes.js";

export interface PollRouteOptions {
  deliveries: Deliveries;
  shutdown: Shutdown;
  metrics: Metrics;
  limits: Limits;
}

/** A batch stops growing past this many bytes of events, whatever `max` says. */
const MAX_POLL_BYTES = 4 * 1024 * 1024;

const pollSchema = {
  summary: "Long polling (short with wait=0): the events from a position, as soon as there is one",
  tags: ["read"],
  params: streamParameter,
  querystring: querySchema({
    ...readParameters,
    max: { type: "integer", minimum: 1, maximum: MAX_POLL_EVENTS, default: DEFAULT_POLL_EVENTS, description: `at most this many events, and at most ${MAX_POLL_BYTES / 1024 / 1024} MiB of them` },
    wait: { type: "number", minimum: 0, maximum: MAX_POLL_WAIT_S, default: DEFAULT_POLL_WAIT_S, description: "seconds to wait for an event when there is none yet" },
  }),
  response: {
    200: {
      description: "The events there are (none after wait seconds); pass next as from= next time. Accept: application/x-protobuf asks for a streamgate.v1.EventBatch.",
      content: {
        "application/json": { schema: ref(pollBatchSchema) },
        "application/x-protobuf": { schema: { type: "string", format: "binary", description: "streamgate.v1.EventBatch" } },
      },
    },
    ...errorResponses("not_found", "rate_limited"),
  },
};

/** GET /v1/streams/{stream}/poll (PROTOCOL.md section 5.2): long polling, and short with wait=0. */
export const pollRoutes: FastifyPluginAsync<PollRouteOptions> = async (app, { deliveries, shutdown, metrics, limits }) => {
  app.get<{ Params: { stream: string }; Querystring: Query }>(
    "/v1/streams/:stream/poll",
    { schema: pollSchema },
    async (request, reply) => {
      const max = integerParam(request.query, "max", 1, MAX_POLL_EVENTS, DEFAULT_POLL_EVENTS);
      const waitMs = waitParam(single(request.query, "wait")) * 1000;
      const principal = principalOf(request);
      const connection = new Connection("poll", metrics, shutdown, limits);
      try {
        // Each poll is checked on its own: its credential need only hold when it starts.
        connection.authenticate(principal);
        reply.raw.once("close", () => connection.close());
        const delivery = await deliveries.open(connection, request.params.stream, () => readSpecFromQuery(request.query));
        const batch = await delivery.collect({ max, maxBytes: MAX_POLL_BYTES, waitMs });
        const codec = wantsProtobuf(request.headers.accept) ? protoCodec : jsonCodec;
        return reply.type(codec.contentType).send(codec.encodeBatch(batch));
      } finally {
        connection.close();
      }
    },
  );
};

function waitParam(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_POLL_WAIT_S;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds > MAX_POLL_WAIT_S) {
    throw new ApiError("invalid_argument", `wait must be 0 to ${MAX_POLL_WAIT_S} seconds, not "${raw}"`);
  }
  return seconds;
}

function wantsProtobuf(accept: string | undefined): boolean {
  return accept !== undefined && /\bapplication\/x-protobuf\b/.test(accept);
}
