/**
 * The WebSocket ceiling: what Node does at best for fan-out. One core NATS subscription; each
 * message (already the frame's text) framed once and written as is to every client's socket.
 *
 *   args { natsUrl, subject }; first message { url }; { op: "stop" } ends it.
 */
import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import { connect } from "@nats-io/transport-node";
import { WebSocketServer } from "ws";
import { loadMain } from "../harness/load-main.js";
import { listen } from "./listen.js";
import { textFrame } from "./ws-frame.js";

loadMain<{ natsUrl: string; subject: string }, Record<string, never>>(async ({ natsUrl, subject }, parent) => {
  const sockets = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  server.on("upgrade", (request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(socket);
      ws.on("close", () => sockets.delete(socket));
    }),
  );
  const nc = await connect({ servers: natsUrl });
  nc.subscribe(subject, {
    callback: (_error, message) => {
      const frame = textFrame(message.data);
      for (const socket of sockets) socket.write(frame);
    },
  });
  await nc.flush();
  parent.send({ url: `ws://${await listen(server)}/` });
  await parent.next();
  await nc.close();
  server.close();
  return {};
});
