import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { FastifyPluginAsync } from "fastify";
import type { Hub } from "../fanout/hub.js";
import type { Schemas } from "../schema/registry.js";
import { ApiError } from "../gateway/errors.js";
import { parseReadQuery, single, type Query } from "./read-request.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Shutdown } from "../delivery/shutdown.js";
import { requireStream } from "../gateway/routes/streams.js";

export interface SseRouteOptions {
  hub: Hub;
  schemas: Schemas;
  shutdown: Shutdown;
  keepAliveMs: number;
  retryMs: number;
  metrics: Metrics;
}

/** GET /v1/streams/{stream}/sse (PROTOCOL.md section 5.1). */
export const sseRoutes: FastifyPluginAsync<SseRouteOptions> = async (app, options) => {
  const { hub, schemas, shutdown, metrics } = options;

  app.get<{ Params: { stream: string }; Querystring: Query }>("/v1/streams/:stream/sse", async (request, reply) => {
    const stream = requireStream(schemas, request.params.stream);
    const read = parseReadQuery(stream, request.query);
    const resumeAfter = lastEventId(request.headers["last-event-id"], single(request.query, "lastEventId"));
    if (resumeAfter !== undefined) read.position = { from: resumeAfter + 1 };
    const { reader } = await hub.open(read);

    const done = new AbortController();
    const closed = metrics.open("sse");
    const stopWhenDone = shutdown.onShutdown(() => done.abort());
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    res.on("close", () => done.abort());
    res.flushHeaders();

    let lastWrite = Date.now();
    const send = async (frame: string) => {
      lastWrite = Date.now();
      if (!res.write(frame)) await drained(res, done.signal);
    };
    const keepAlive = setInterval(() => {
      if (Date.now() - lastWrite >= options.keepAliveMs && !res.writableNeedDrain) {
        lastWrite = Date.now();
        res.write(": keep-alive\n\n");
      }
    }, Math.max(10, Math.floor(options.keepAliveMs / 2)));

    try {
      await send(`retry: ${options.retryMs}\n\n`);
      for (;;) {
        const item = await reader.next({ wait: true, signal: done.signal });
        if (!item) break;
        if (item.kind === "gap") await send(`event: gap\ndata: ${JSON.stringify(item.gap)}\n\n`);
        else {
          await send(`id: ${item.event.offset}\ndata: ${item.event.json}\n\n`);
          metrics.delivered.add(1, { protocol: "sse" });
        }
        if (done.signal.aborted) break;
      }
    } catch (err) {
      request.log.warn({ err, stream: stream.name }, "SSE stream failed");
    } finally {
      clearInterval(keepAlive);
      closed();
      stopWhenDone();
      reader.close();
      res.end();
    }
  });
};

/** Last-Event-ID (header) or lastEventId (query): the offset the client saw last. */
function lastEventId(headerValue: string | string[] | undefined, queryValue: string | undefined): number | undefined {
  const raw = (Array.isArray(headerValue) ? headerValue[0] : headerValue) || queryValue;
  if (raw === undefined || raw === "") return undefined;
  const offset = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(offset + 1)) {
    throw new ApiError("invalid_argument", `Last-Event-ID must be an offset, not "${raw}"`);
  }
  return offset;
}

async function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  try {
    await once(res, "drain", { signal });
  } catch {
    // Aborted: the client went away or the gateway is shutting down.
  }
}
