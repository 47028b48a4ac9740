import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import cors from "@fastify/cors";
import type { Backbone } from "../backbone/connection.js";
import type { GatewayConfig } from "../config/config.js";
import { Hub } from "../fanout/hub.js";
import type { Schemas } from "../schema/registry.js";
import type { WebhookService } from "../webhooks/service.js";
import { ApiError, toApiError } from "./errors.js";
import { Metrics } from "../metrics/metrics.js";
import { Publisher } from "../publishing/publisher.js";
import { healthRoutes } from "./routes/health.js";
import { pollRoutes } from "../protocols/poll.js";
import { publishRoutes } from "../publishing/routes.js";
import { sseRoutes } from "../protocols/sse.js";
import { streamRoutes } from "./routes/streams.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { wsRoutes } from "../protocols/ws/route.js";
import { Shutdown } from "../delivery/shutdown.js";

export interface GatewayOptions {
  backbone: Backbone;
  schemas: Schemas;
  webhooks: WebhookService;
  /** The streams the gateway keeps its own state in, besides the declared ones. */
  stateStreams: readonly string[];
  config: Omit<GatewayConfig, "port" | "host" | "natsUrl" | "dataDir" | "descriptorSet" | "logLevel">;
  logger: FastifyBaseLogger;
}

/** The HTTP face of the gateway: one plugin per concern, every error in the protocol's shape. */
export function createGateway({ backbone, schemas, webhooks, stateStreams, config, logger }: GatewayOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would drown everything else at the rates a gateway serves.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    return503OnClosing: true,
  });
  const hub = new Hub(backbone, schemas, (stream, err) => app.log.error({ err, stream }, "live feed failed"));
  const shutdown = new Shutdown();
  const metrics = new Metrics();
  const publisher = new Publisher(backbone, metrics);
  app.addHook("preClose", async () => {
    shutdown.begin();
    // A connection a client opened but never used would hold close() until it times out.
    setTimeout(() => app.server.closeAllConnections(), 1_000).unref();
  });
  app.addHook("onClose", async () => hub.close());

  app.setErrorHandler((err, request, reply) => {
    const apiError = fastifyErrorToApiError(err);
    if (apiError.code === "internal") request.log.error({ err }, "request failed");
    if (apiError.retryAfter !== undefined) void reply.header("retry-after", String(apiError.retryAfter));
    return reply.code(apiError.status).send(apiError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = new ApiError("not_found", `no route for ${request.method} ${request.url.split("?")[0]}`);
    return reply.code(apiError.status).send(apiError.toJSON());
  });

  const origins = config.corsOrigins.split(",").map((o) => o.trim()).filter(Boolean);
  void app.register(cors, { origin: origins.includes("*") ? "*" : origins, exposedHeaders: ["retry-after"] });
  void app.register(healthRoutes, { jsm: backbone.jsm, streams: [...schemas.streams.keys(), ...stateStreams] });
  void app.register(streamRoutes, { jsm: backbone.jsm, schemas });
  app.get("/metrics", async (_request, reply) => reply.type("text/plain; version=0.0.4").send(metrics.render()));
  void app.register(publishRoutes, { schemas, publisher });
  void app.register(sseRoutes, {
    hub,
    schemas,
    shutdown,
    keepAliveMs: config.sseKeepAliveMs,
    retryMs: config.sseRetryMs,
    metrics,
  });
  void app.register(webhookRoutes, { service: webhooks });
  void app.register(pollRoutes, { hub, jsm: backbone.jsm, schemas, shutdown, metrics });
  void app.register(wsRoutes, {
    hub,
    publisher,
    schemas,
    shutdown,
    maxFrameBytes: config.wsMaxFrameBytes,
    pingIntervalMs: config.wsPingIntervalMs,
    metrics,
    limits: {
      maxSubscriptions: config.wsMaxSubscriptions,
      framesPerSecond: config.wsFramesPerSecond,
      highWaterBytes: config.wsHighWaterBytes,
      slowConsumerTimeoutMs: config.wsSlowConsumerTimeoutMs,
    },
  });
  return app;
}

/** Fastify's own failures (body parsing, limits, content types) mapped onto protocol codes. */
function fastifyErrorToApiError(err: unknown): ApiError {
  if (err instanceof Error && "statusCode" in err && typeof err.statusCode === "number" && !(err instanceof ApiError)) {
    switch (err.statusCode) {
      case 400:
        return new ApiError("invalid_argument", err.message);
      case 404:
        return new ApiError("not_found", err.message);
      case 413:
        return new ApiError("payload_too_large", err.message);
      case 415:
        return new ApiError("unsupported_media_type", err.message);
    }
  }
  return toApiError(err);
}
