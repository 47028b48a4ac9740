import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/http.js";
import { Connection } from "../delivery/connection.js";
import type { Deliveries } from "../delivery/delivery.js";
import type { Limits } from "../delivery/limits.js";
import type { Shutdown } from "../delivery/shutdown.js";
import type { Metrics } from "../metrics/metrics.js";
import { ApiError } from "@streamgate/protocol/errors";
import { jsonCodec } from "@streamgate/protocol/json-codec";
import { protoCodec } from "@streamgate/protocol/proto-codec";
import { integerParam, READ_PARAMS, readSpecFromQuery, single, type Query } from "@streamgate/protocol/read-spec";

export interface PollRouteOptions {
  deliveries: Deliveries;
  shutdown: Shutdown;
  metrics: Metrics;
  limits: Limits;
}

export const MAX_POLL_EVENTS = 1000;
/** A batch stops growing past this many bytes of events, whatever `max` says. */
const MAX_POLL_BYTES = 4 * 1024 * 1024;
export const MAX_POLL_WAIT_S = 60;

/** GET /v1/streams/{stream}/poll (PROTOCOL.md section 5.2): long polling, and short with wait=0. */
export const pollRoutes: FastifyPluginAsync<PollRouteOptions> = async (app, { deliveries, shutdown, metrics, limits }) => {
  app.get<{ Params: { stream: string }; Querystring: Query }>(
    "/v1/streams/:stream/poll",
    { config: { query: [...READ_PARAMS, "max", "wait"] } },
    async (request, reply) => {
      const max = integerParam(request.query, "max", 1, MAX_POLL_EVENTS, 100);
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
  if (raw === undefined) return 30;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds > MAX_POLL_WAIT_S) {
    throw new ApiError("invalid_argument", `wait must be 0 to ${MAX_POLL_WAIT_S} seconds, not "${raw}"`);
  }
  return seconds;
}

function wantsProtobuf(accept: string | undefined): boolean {
  return accept !== undefined && /\bapplication\/x-protobuf\b/.test(accept);
}
