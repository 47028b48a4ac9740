/**
 * The SSE ceiling: a node:http broadcaster. One core NATS subscription; each message (already
 * the SSE message's text) written as is to every open response.
 *
 *   args { natsUrl, subject }; first message { url }; { op: "stop" } ends it.
 */
import { createServer, type ServerResponse } from "node:http";
import { connect } from "@nats-io/transport-node";
import { loadMain } from "../harness/load-main.js";
import { listen } from "./listen.js";

loadMain<{ natsUrl: string; subject: string }, Record<string, never>>(async ({ natsUrl, subject }, parent) => {
  const responses = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    response.write("retry: 2000\n\n");
    responses.add(response);
    request.socket.on("close", () => responses.delete(response));
  });
  const nc = await connect({ servers: natsUrl });
  nc.subscribe(subject, {
    callback: (_error, message) => {
      for (const response of responses) response.write(message.data);
    },
  });
  await nc.flush();
  parent.send({ url: `http://${await listen(server)}/` });
  await parent.next();
  await nc.close();
  server.close();
  return {};
});
