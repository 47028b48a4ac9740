/**
 * The SSE ceiling: a node:http broadcaster. Each message of one core NATS subscription
 * (already the SSE message's text) is written as is to every open response. Run by the
 * harness as a load process (see serve.ts).
 */
import { createServer, type ServerResponse } from "node:http";
import { ceilingMain } from "./serve.js";

ceilingMain("http", () => {
  const responses = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    response.write("retry: 2000\n\n");
    responses.add(response);
    request.socket.on("close", () => responses.delete(response));
  });
  return {
    server,
    broadcast: (payload) => {
      for (const response of responses) response.write(payload);
    },
  };
});
