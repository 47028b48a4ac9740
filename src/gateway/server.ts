import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import cors from "@fastify/cors";
import type { Backbone } from "../backbone/connection.js";
import type { GatewayConfig } from "../config/config.js";
import type { Deliveries } from "../delivery/delivery.js";
import type { Limits } from "../delivery/limits.js";
import type { Shutdown } from "../delivery/shutdown.js";
import type { Metrics } from "../metrics/metrics.js";
import { ApiError } from "@streamgate/protocol/errors";
import { checkQueryNames, type Query } from "@streamgate/protocol/read-spec";
import { pollRoutes } from "../protocols/poll.js";
import { sseRoutes } from "../protocols/sse.js";
import { wsRoutes } from "../protocols/ws/route.js";
import type { Publisher } from "../publishing/publisher.js";
import { publishRoutes } from "../publishing/routes.js";
import type { Schemas } from "../schema/registry.js";
import type { WebhookService } from "../webhooks/service.js";
import { answerClientError } from "./client-errors.js";
import { CREDENTIAL_QUERY_PARAMETER } from "../auth/credential.js";
import { installRequestAuth, type BrowserSafety, type RequestAuth } from "../auth/http.js";
import { toApiError } from "../delivery/errors.js";
import { describeRoutes } from "../openapi/document.js";
import { queryParametersOf } from "../openapi/query.js";
import { RouteTable } from "./route-table.js";
import { asyncApiRoutes } from "./routes/asyncapi.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { streamRoutes } from "./routes/streams.js";
import { webhookRoutes } from "./routes/webhooks.js";

export interface GatewayParts {
  auth: RequestAuth;
  browsers: BrowserSafety;
  backbone: Backbone;
  schemas: Schemas;
  deliveries: Deliveries;
  publisher: Publisher;
  metrics: Metrics;
  shutdown: Shutdown;
  limits: Limits;
  webhooks: WebhookService;
  /** The streams the gateway keeps its own state in, besides the declared ones. */
  stateStreams: readonly string[];
  config: Omit<GatewayConfig, "port" | "host" | "natsUrl" | "dataDir" | "descriptorSet" | "logLevel">;
  logger: FastifyBaseLogger;
}

/** The HTTP face of the gateway: one plugin per concern, every error in the protocol's shape. */
export function createGateway(parts: GatewayParts): FastifyInstance {
  const { auth, browsers, backbone, schemas, deliveries, publisher, metrics, shutdown, limits, webhooks, stateStreams, config, logger } = parts;
  const sendError = (reply: FastifyReply, error: ApiError) => {
    if (error.retryAfter !== undefined) void reply.header("retry-after", String(error.retryAfter));
    const challenge = BEARER_CHALLENGES[error.code];
    if (challenge) void reply.header("www-authenticate", challenge);
    return reply.code(error.status).send(error.toJSON());
  };
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would drown everything else at the rates a gateway serves.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    return503OnClosing: true,
    // A malformed or overlong URL is answered in the protocol's shape too.
    frameworkErrors: (err, request, reply) => void sendError(reply, fastifyErrorToApiError(err, request)),
    // So is a request Node's HTTP parser refuses before fastify sees it (431, say).
    clientErrorHandler: answerClientError,
  });
  describeRoutes(app, { authRequired: auth.mode === "required", allowQueryToken: config.auth.allowQueryToken });
  const routes = new RouteTable();
  // A token in the URL is a parameter of every route only where the operator allowed it.
  const credentialParameters = config.auth.allowQueryToken ? [CREDENTIAL_QUERY_PARAMETER] : [];
  app.addHook("onRoute", (route) => routes.add(route.method, route.url));
  app.addHook("onResponse", async (request, reply) => metrics.http.response(request.method, request.routeOptions.url, reply.statusCode));
  app.addHook("preClose", async () => {
    shutdown.begin();
    // A connection a client opened but never used would hold close() until it times out.
    setTimeout(() => app.server.closeAllConnections(), 1_000).unref();
  });
  // A route takes the query parameters its schema describes; any other is refused (PROTOCOL.md
  // section 4). Not onRequest: a WebSocket route's socket is only closed after a refusal once
  // @fastify/websocket's own onRequest hook has marked the request as an upgrade.
  app.addHook("preValidation", async (request: FastifyRequest<{ Querystring: Query }>) => {
    if (request.method !== "OPTIONS") checkQueryNames(request.query, [...queryParametersOf(request.routeOptions.schema), ...credentialParameters]);
  });

  app.setErrorHandler((err, request, reply) => {
    const apiError = fastifyErrorToApiError(err, request);
    if (apiError.code === "internal") request.log.error({ err }, "request failed");
    // What the client hears is only that something it depends on is down; the cause is for operators.
    else if (apiError.code === "unavailable") request.log.warn({ err }, "a dependency is unavailable");
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]!;
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      void reply.header("allow", allowed.join(", "));
      return sendError(reply, new ApiError("method_not_allowed", `${request.method} is not allowed on ${path}; it takes ${allowed.join(", ")}`));
    }
    return sendError(reply, new ApiError("not_found", `no route for ${request.method} ${path}`));
  });

  installRequestAuth(app, auth, browsers);
  const origins = browsers.allowedOrigins;
  void app.register(cors, {
    origin: origins.includes("*") ? "*" : [...origins],
    // Cookies cross origins only to the origins listed, and only where they mean something.
    credentials: auth.mode === "required",
    exposedHeaders: ["retry-after", "www-authenticate"],
  });
  void app.register(healthRoutes, { jsm: backbone.jsm, streams: [...schemas.streams.keys(), ...stateStreams] });
  void app.register(streamRoutes, { jsm: backbone.jsm, schemas });
  void app.register(metricsRoutes, { metrics });
  void app.register(asyncApiRoutes, { schemas, auth: auth.mode === "required" ? { queryToken: config.auth.allowQueryToken } : undefined });
  void app.register(publishRoutes, { schemas, publisher });
  void app.register(sseRoutes, { deliveries, shutdown, metrics, limits, keepAliveMs: config.sseKeepAliveMs, retryMs: config.sseRetryMs, highWaterBytes: config.sseHighWaterBytes });
  void app.register(webhookRoutes, { service: webhooks });
  void app.register(pollRoutes, { deliveries, shutdown, metrics, limits });
  void app.register(wsRoutes, {
    deliveries,
    publisher,
    schemas,
    shutdown,
    metrics,
    connectionLimits: limits,
    maxFrameBytes: config.wsMaxFrameBytes,
    pingIntervalMs: config.wsPingIntervalMs,
    authenticate: auth.mode === "required" ? (credential) => auth.authenticate(credential) : undefined,
    limits: {
      maxSubscriptions: config.wsMaxSubscriptions,
      framesPerSecond: config.wsFramesPerSecond,
      highWaterBytes: config.wsHighWaterBytes,
      slowConsumerTimeoutMs: config.wsSlowConsumerTimeoutMs,
    },
  });
  return app;
}

/** RFC 6750 challenges, as PROTOCOL.md section 9.3 writes them. */
const BEARER_CHALLENGES: Partial<Record<string, string>> = {
  unauthenticated: 'Bearer error="invalid_token"',
  permission_denied: 'Bearer error="insufficient_scope"',
};

const ACCEPTED_BODIES = "application/json, or application/x-protobuf where the route takes events";

/** Fastify's own failures (body parsing, limits, content types, URLs) mapped onto protocol codes. */
function fastifyErrorToApiError(err: unknown, request: FastifyRequest): ApiError {
  if (err instanceof Error && "statusCode" in err && typeof err.statusCode === "number" && !(err instanceof ApiError)) {
    switch (err.statusCode) {
      case 400:
        return new ApiError("invalid_argument", err.message);
      case 404:
        return new ApiError("not_found", err.message);
      case 413:
        return new ApiError("payload_too_large", err.message);
      case 414:
        return new ApiError("uri_too_long", "a path segment is longer than the gateway takes (stream names are at most 63 characters)");
      case 415:
        return new ApiError("unsupported_media_type", `Content-Type ${request.headers["content-type"] ?? "(none)"} is not taken here: send ${ACCEPTED_BODIES}`);
    }
  }
  return toApiError(err);
}
