/**
 * The WebSocket ceiling: what Node does at best for fan-out. Each message of one core NATS
 * subscription (already the frame's text) is framed once and written as is to every client's
 * socket. Run by the harness as a load process (see serve.ts).
 */
import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { ceilingMain } from "./serve.js";
import { textFrame } from "./ws-frame.js";

ceilingMain("ws", () => {
  const sockets = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  server.on("upgrade", (request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(socket);
      ws.on("close", () => sockets.delete(socket));
    }),
  );
  return {
    server,
    broadcast: (payload) => {
      const frame = textFrame(payload);
      for (const socket of sockets) socket.write(frame);
    },
  };
});
