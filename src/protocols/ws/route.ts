import type { ServerResponse } from "node:http";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import websocket from "@fastify/websocket";
import type { WebSocket } from "ws";
import type { Deliveries, Delivery } from "../../delivery/delivery.js";
import { OverLimitError, type Limits } from "../../delivery/limits.js";
import type { Shutdown } from "../../delivery/shutdown.js";
import type { Metrics } from "../../metrics/metrics.js";
import type { Principal } from "../../auth/principal.js";
import { SUBPROTOCOLS } from "@streamgate/protocol/codec";
import { ApiError, CLOSE_CODES, ERROR_CATALOG } from "@streamgate/protocol/errors";
import { jsonCodec } from "@streamgate/protocol/json-codec";
import { protoCodec } from "@streamgate/protocol/proto-codec";
import { readSpecFromQuery, type Query } from "@streamgate/protocol/read-spec";
import { errorResponses } from "../../openapi/errors.js";
import { querySchema, readParameters } from "../../openapi/query.js";
import { streamParameter } from "../../openapi/stream-shapes.js";
import type { Publisher } from "../../publishing/publisher.js";
import type { Schemas } from "../../schema/registry.js";
import { WsConnection } from "./connection.js";
import { WsSession, type SessionDeps, type WsLimits } from "./session.js";

export interface WsRouteOptions {
  deliveries: Deliveries;
  publisher: Publisher;
  schemas: Schemas;
  shutdown: Shutdown;
  limits: WsLimits;
  /** The gateway's connection limits (PROTOCOL.md section 9.5), as against the per-connection ones. */
  connectionLimits: Limits;
  maxFrameBytes: number;
  pingIntervalMs: number;
  metrics: Metrics;
  /** Who the credential of an `auth` frame is; undefined while auth is off. */
  authenticate: ((credential: string) => Promise<Principal>) | undefined;
}

/** A connection that never authenticates is closed with 1008 after this (PROTOCOL.md section 9.3). */
const AUTH_TIMEOUT_MS = 10_000;


const UPGRADED = { 101: { description: "Switching Protocols: the WebSocket is open", type: "null" } };

/** What OpenAPI can say of a WebSocket: the upgrade. The frames are PROTOCOL.md section 5.4's. */
function upgradeSchema(summary: string, description: string) {
  return {
    summary,
    description: `A WebSocket upgrade (Upgrade: websocket), not a plain GET: ${description} Subprotocol ${SUBPROTOCOLS.json} (text frames, the default) or ${SUBPROTOCOLS.proto} (binary frames); the frames are those of docs/protocol.md section 5.4.`,
    tags: ["read"],
    headers: {
      type: "object",
      properties: {
        Upgrade: { type: "string", enum: ["websocket"] },
        "Sec-WebSocket-Protocol": { type: "string", description: `${SUBPROTOCOLS.json} or ${SUBPROTOCOLS.proto}` },
      },
      required: ["Upgrade"],
    },
    response: UPGRADED,
  };
}

/** GET /v1/ws and GET /v1/streams/{stream}/ws (PROTOCOL.md section 5.4). */
export const wsRoutes: FastifyPluginAsync<WsRouteOptions> = async (app, options) => {
  const { deliveries, publisher, schemas, shutdown, limits, metrics, connectionLimits, authenticate } = options;
  // A client sending an oversized or broken frame is its own problem, not the gateway's:
  // the close code tells it, and the log stays quiet.
  const onSocketError = (err: Error, socket: WebSocket) => {
    if ("code" in err && String(err.code).startsWith("WS_ERR_")) app.log.debug({ err }, "bad WebSocket frame");
    else app.log.error({ err }, "WebSocket handler failed");
    socket.terminate();
  };
  // One listener for every socket (the socket is `this`), not a closure per connection.
  function onError(this: WebSocket, err: Error) {
    onSocketError(err, this);
  }
  const upgradeResponses = new WeakMap<object, ServerResponse>();
  await app.register(websocket, {
    errorHandler: onSocketError,
    options: {
      // Bigger frames close the connection with 1009.
      maxPayload: options.maxFrameBytes,
      // Event frames are built once and written to the TCP socket as they are (WsSession).
      perMessageDeflate: false,
      // No set of every client with a close listener of each: Shutdown closes them (1012).
      clientTracking: false,
      handleProtocols: (offered: Set<string>) =>
        offered.has(SUBPROTOCOLS.proto) ? SUBPROTOCOLS.proto : offered.has(SUBPROTOCOLS.json) ? SUBPROTOCOLS.json : false,
    },
  });

  // Shared by every session.
  const sessionDeps: SessionDeps = {
    deliveries,
    publisher,
    schemas,
    limits,
    unsent: connectionLimits.unsent,
    log: app.log,
    authenticate,
    pingIntervalMs: options.pingIntervalMs,
  };

  function startSession(socket: WebSocket, request: FastifyRequest, connection: WsConnection): WsSession {
    const raw = request.raw.socket;
    releaseUpgrade(socket, request);
    const session = new WsSession(socket, raw, codecOf(socket), connection, sessionDeps);
    session.authenticate(request.principal, AUTH_TIMEOUT_MS);
    return session;
  }

  /**
   * A connection told to reconnect elsewhere when the gateway shuts down (its socket may come
   * later), counted under the upgrade's credential; OverLimitError when a limit refuses it.
   */
  const connect = (principal: Principal | undefined) => {
    const connection = new WsConnection("ws", metrics, shutdown, connectionLimits);
    try {
      if (principal) connection.authenticate(principal);
    } catch (err) {
      connection.close();
      throw err;
    }
    return connection;
  };

  /** Over a limit, a WebSocket is told why in an error frame and closed with 1013: try again later (PROTOCOL.md 5.4). */
  const refuse = (socket: WebSocket, refusal: OverLimitError) => {
    socket.send(codecOf(socket).encodeServer({ op: "error", code: refusal.code, message: refusal.message }));
    socket.close(ERROR_CATALOG.unavailable.close, refusal.code);
  };

  // A plain GET is told what the path is for, rather than a 404 for a path that exists.
  const upgradesOnly = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.ws) throw new ApiError("invalid_argument", `${request.url.split("?")[0]} takes WebSocket upgrades only (Upgrade: websocket)`);
    upgradeResponses.set(request.raw, reply.raw);
  };

  /**
   * @fastify/websocket keeps the upgrade's request and response for the socket's whole life:
   * the response stays the socket's HTTP message, and its error listener on the WebSocket closes
   * over both. That was ~4 KB of every idle connection. The session needs neither, so the
   * response lets go of the socket, and the listener is replaced by one that does what the
   * plugin's did with our errorHandler: log and terminate.
   */
  const releaseUpgrade = (socket: WebSocket, request: FastifyRequest) => {
    upgradeResponses.get(request.raw)?.detachSocket(request.raw.socket);
    upgradeResponses.delete(request.raw);
    socket.removeAllListeners("error");
    socket.on("error", onError);
  };

  const wsSchema = upgradeSchema("WebSocket: many subscriptions, publishing, auth frames", "one connection for any number of subscriptions, made with subscribe frames.");
  app.get("/v1/ws", { websocket: true, schema: wsSchema, preValidation: upgradesOnly }, (socket, request) => {
    let connection: WsConnection;
    try {
      connection = connect(request.principal);
    } catch (err) {
      if (err instanceof OverLimitError) return refuse(socket, err);
      throw err;
    }
    connection.socket = socket;
    startSession(socket, request, connection);
  });

  // The delivery is opened before the upgrade, so a bad query or a position beyond the end is
  // a plain HTTP error; an opened delivery holds nothing until it is pumped.
  const opened = new WeakMap<object, { connection: WsConnection; delivery: Delivery; abandoned(): void }>();
  const refused = new WeakMap<object, OverLimitError>();
  app.get<{ Params: { stream: string }; Querystring: Query }>(
    "/v1/streams/:stream/ws",
    {
      websocket: true,
      schema: {
        ...upgradeSchema("WebSocket with one subscription already made", "the protocol of GET /v1/ws, with one subscription made from the query (its sub is the stream's name)."),
        params: streamParameter,
        querystring: querySchema(readParameters),
        response: { ...UPGRADED, ...errorResponses("not_found", "rate_limited") },
      },
      preValidation: async (request, reply) => {
        await upgradesOnly(request, reply);
        let connection: WsConnection;
        try {
          connection = connect(request.principal);
        } catch (err) {
          if (!(err instanceof OverLimitError)) throw err;
          refused.set(request.raw, err);
          return;
        }
        // The subscription in the URL is checked against the credential the upgrade carries.
        try {
          // Closures here capture the query, not the request: they live as long as the connection.
          const { query } = request;
          const delivery = await deliveries.open(connection, request.params.stream, () => readSpecFromQuery(query));
          // An upgrade that never completes must not keep its delivery counted and open.
          const key = request.raw;
          const abandoned = () => opened.delete(key) && connection.close();
          key.socket.once("close", abandoned);
          opened.set(key, { connection, delivery, abandoned });
        } catch (err) {
          connection.close();
          throw err;
        }
      },
    },
    (socket, request) => {
      const refusal = refused.get(request.raw);
      if (refusal) return refuse(socket, refusal);
      const { connection, delivery, abandoned } = opened.get(request.raw)!;
      opened.delete(request.raw);
      request.raw.socket.off("close", abandoned);
      connection.socket = socket;
      // Shut down between the check and the upgrade: the client reconnects elsewhere.
      if (connection.closed) return socket.close(CLOSE_CODES.restarting, "gateway restarting: reconnect and resume");
      // Its sub is the stream's name: the definition's, which every such connection shares, not the URL's copy.
      startSession(socket, request, connection).adopt(delivery.stream.name, delivery);
    },
  );
};

function codecOf(socket: WebSocket) {
  return socket.protocol === SUBPROTOCOLS.proto ? protoCodec : jsonCodec;
}
