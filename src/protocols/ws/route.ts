import type { FastifyPluginAsync } from "fastify";
import websocket from "@fastify/websocket";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { Hub, OpenedReader } from "../../fanout/hub.js";
import type { Schemas } from "../../schema/registry.js";
import { parseReadQuery, type Query } from "../read-request.js";
import type { Metrics } from "../../metrics/metrics.js";
import type { Publisher } from "../../publishing/publisher.js";
import type { Shutdown } from "../../delivery/shutdown.js";
import { JSON_SUBPROTOCOL, PROTO_SUBPROTOCOL, jsonCodec, protoCodec } from "./frames.js";
import { WsSession, type WsLimits } from "./session.js";
import { requireStream } from "../../gateway/routes/streams.js";

export interface WsRouteOptions {
  hub: Hub;
  publisher: Publisher;
  schemas: Schemas;
  shutdown: Shutdown;
  limits: WsLimits;
  maxFrameBytes: number;
  pingIntervalMs: number;
  metrics: Metrics;
}

export const CLOSE_RESTARTING = 1012;

/** GET /v1/ws and GET /v1/streams/{stream}/ws (PROTOCOL.md section 5.3). */
export const wsRoutes: FastifyPluginAsync<WsRouteOptions> = async (app, options) => {
  const { hub, publisher, schemas, shutdown, limits, metrics } = options;
  await app.register(websocket, {
    // A client sending an oversized or broken frame is its own problem, not the gateway's:
    // the close code tells it, and the log stays quiet.
    errorHandler: (err, socket) => {
      if ("code" in err && String(err.code).startsWith("WS_ERR_")) app.log.debug({ err }, "bad WebSocket frame");
      else app.log.error({ err }, "WebSocket handler failed");
      socket.terminate();
    },
    options: {
      // Bigger frames close the connection with 1009.
      maxPayload: options.maxFrameBytes,
      handleProtocols: (offered: Set<string>) =>
        offered.has(PROTO_SUBPROTOCOL) ? PROTO_SUBPROTOCOL : offered.has(JSON_SUBPROTOCOL) ? JSON_SUBPROTOCOL : false,
    },
  });

  function startSession(socket: WebSocket, transport: Socket): WsSession {
    const codec = socket.protocol === PROTO_SUBPROTOCOL ? protoCodec : jsonCodec;
    const session = new WsSession(socket, codec, { hub, publisher, schemas, limits, metrics, log: app.log });
    const closed = metrics.open("ws");
    const stopOnShutdown = shutdown.onShutdown(() => socket.close(CLOSE_RESTARTING, "gateway restarting: reconnect and resume"));
    // A peer that misses a whole ping interval is gone: drop it rather than hold its state.
    // But a ping waits behind the data queued before it. While the connection is saturated
    // (data waits in the gateway), bytes only leave as fast as the peer reads, so a peer whose
    // bytes keep leaving is slow, not dead: the slow-consumer rule (4008) is for it.
    let alive = true;
    let written = transport.bytesWritten;
    socket.on("pong", () => (alive = true));
    const heartbeat = setInterval(() => {
      const reading = socket.bufferedAmount > 0 && transport.bytesWritten > written;
      written = transport.bytesWritten;
      if (!alive && !reading) return socket.terminate();
      alive = false;
      socket.ping();
    }, options.pingIntervalMs);
    socket.on("close", () => {
      clearInterval(heartbeat);
      closed();
      stopOnShutdown();
    });
    return session;
  }

  app.get("/v1/ws", { websocket: true }, (socket, request) => {
    startSession(socket, request.raw.socket);
  });

  // The reader is opened before the upgrade, so a bad query or a position beyond the end is
  // a plain HTTP error; an opened reader holds nothing until it is read.
  const opened = new WeakMap<object, OpenedReader>();
  app.get<{ Params: { stream: string }; Querystring: Query }>(
    "/v1/streams/:stream/ws",
    {
      websocket: true,
      preValidation: async (request) => {
        const read = parseReadQuery(requireStream(schemas, request.params.stream), request.query);
        opened.set(request.raw, await hub.open(read));
      },
    },
    (socket, request) => {
      startSession(socket, request.raw.socket).adopt(request.params.stream, opened.get(request.raw)!);
      opened.delete(request.raw);
    },
  );
};
