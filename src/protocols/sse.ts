import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/http.js";
import { Connection, type ExpiryHandlers } from "../delivery/connection.js";
import type { Deliveries } from "../delivery/delivery.js";
import type { Limits } from "../delivery/limits.js";
import type { Shutdown } from "../delivery/shutdown.js";
import type { Transport } from "../delivery/transport.js";
import { corkUntilTurnEnds, type Uncorked } from "../delivery/tick-writes.js";
import { every, type Periodic, type Ticker } from "../net/ticker.js";
import type { UnsentAccount, UnsentBudget } from "../delivery/unsent-budget.js";
import type { ReadItem } from "../fanout/reader.js";
import type { Metrics } from "../metrics/metrics.js";
import { ApiError } from "@streamgate/protocol/errors";
import { readSpecFromQuery, single, type Query, type ReadSpec } from "@streamgate/protocol/read-spec";
import { sseFrames } from "@streamgate/protocol/sse";
import { errorResponses } from "../openapi/errors.js";
import { querySchema, readParameters } from "../openapi/query.js";
import { streamParameter } from "../openapi/stream-shapes.js";

export interface SseRouteOptions {
  deliveries: Deliveries;
  shutdown: Shutdown;
  metrics: Metrics;
  limits: Limits;
  keepAliveMs: number;
  retryMs: number;
  highWaterBytes: number;
}

const RESUME = "the offset seen last: the stream resumes after it, whatever the position parameters say";

const sseSchema = {
  summary: "Server-Sent Events: the stream from a position, then live",
  description:
    "First a retry: line; each event is id: <offset> and data: <envelope JSON> with no event: field; a gap notice is event: gap; " +
    "at a credential's expiry, event: expired and the response ends. A comment line keeps an idle response open.",
  tags: ["read"],
  params: streamParameter,
  querystring: querySchema({ ...readParameters, lastEventId: { type: "integer", minimum: 0, description: `as Last-Event-ID, for clients that cannot set headers: ${RESUME}` } }),
  headers: { type: "object", properties: { "Last-Event-ID": { type: "integer", minimum: 0, description: RESUME } } },
  response: {
    200: { description: "An endless text/event-stream", content: { "text/event-stream": { schema: { type: "string" } } } },
    ...errorResponses("not_found", "rate_limited"),
  },
};

/** GET /v1/streams/{stream}/sse (PROTOCOL.md section 5.1). */
export const sseRoutes: FastifyPluginAsync<SseRouteOptions> = async (app, options) => {
  const { deliveries, shutdown, metrics, limits } = options;

  app.get<{ Params: { stream: string }; Querystring: Query }>(
    "/v1/streams/:stream/sse",
    { schema: sseSchema },
    async (request, reply) => {
      const read = (): ReadSpec => {
        const spec = readSpecFromQuery(request.query);
        const resumeAfter = lastEventId(request.headers["last-event-id"], single(request.query, "lastEventId"));
        return resumeAfter === undefined ? spec : { ...spec, position: { from: resumeAfter + 1 } };
      };
      const principal = principalOf(request);
      const connection = new Connection("sse", metrics, shutdown, limits);
      const response = new SseResponse(reply.raw, connection, request.log, request.params.stream, options);
      try {
        connection.authenticate(principal, response);
        const delivery = await deliveries.open(connection, request.params.stream, read);
        // From here on the response is ours: the handler returns, and the request's
        // closures and promises with it; the delivery runs on callbacks until it ends.
        reply.hijack();
        response.start(reply.getHeaders() as Record<string, string>, limits.unsent);
        delivery.pump(response);
      } catch (err) {
        connection.close();
        throw err;
      }
    },
  );
};

/**
 * An SSE response: frames written in order, a comment when idle so proxies keep it open, ended
 * when its delivery ends. Every idle response holds one, so its state is in fields and what
 * calls it (the delivery, the keep-alive ticker, the corked writes, the credential's expiry)
 * calls its methods.
 */
class SseResponse implements Transport, Periodic, Uncorked, ExpiryHandlers {
  #lastWrite = Date.now();
  #started = false;
  /**
   * What the response holds unsent, against its high water and the gateway's budget. Not
   * the socket's own 16 KiB: a burst of events from one turn outgrows that, and stopping
   * for every drain held SSE fan-out to 73k deliveries/s (263k with 1 MiB; BENCHMARKS.md).
   */
  #unsent: UnsentAccount | undefined;
  readonly #keepAlive: Ticker;

  constructor(
    private readonly res: ServerResponse,
    private readonly connection: Connection,
    private readonly log: FastifyBaseLogger,
    /** The stream's name, for the log. */
    private readonly stream: string,
    private readonly options: Pick<SseRouteOptions, "keepAliveMs" | "retryMs" | "highWaterBytes">,
  ) {
    // Checked twice per interval, so no idle stretch is longer than 1.5 × keepAliveMs.
    this.#keepAlive = every(Math.max(10, Math.floor(options.keepAliveMs / 2)));
    res.on("close", this.#gone);
  }

  readonly #gone = (): void => this.connection.close();

  /** Sends the headers and the retry: line; events follow as the delivery sends them. */
  start(headers: Record<string, string>, unsent: UnsentBudget): void {
    const { res } = this;
    res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    res.flushHeaders();
    this.#unsent = unsent.open(this.options.highWaterBytes, res.writableHighWaterMark);
    this.#started = true;
    this.#keepAlive.add(this);
    this.write(sseFrames.retry(this.options.retryMs));
  }

  /** Writes a frame, corked until the turn ends; whether the response has room for more. */
  write(frame: string | Buffer): boolean {
    this.#lastWrite = Date.now();
    corkUntilTurnEnds(this.res, this);
    this.res.write(frame);
    return this.#unsent!.holds(this.res.writableLength);
  }

  /** An event goes out as the frame every SSE client shares. */
  send(item: ReadItem): boolean {
    if (item.kind === "gap") return this.write(sseFrames.gap(item.gap));
    const { event } = item;
    return this.write(event.framed("sse", () => Buffer.from(sseFrames.event(event), "utf8")));
  }

  tick(): void {
    if (Date.now() - this.#lastWrite >= this.options.keepAliveMs && !this.res.writableNeedDrain) this.write(sseFrames.keepAlive);
  }

  uncorked(): void {
    if (!this.res.writableEnded) this.#unsent?.holds(this.res.writableLength);
  }

  async drained(): Promise<void> {
    try {
      await once(this.res, "drain", { signal: this.connection.signal });
    } catch {
      // Aborted: the client went away or the gateway is shutting down.
    }
  }

  /**
   * At expiry the client is told, and the response ends: it reconnects with a fresh
   * credential and Last-Event-ID, losing nothing (PROTOCOL.md section 9.3).
   */
  expired(expiresAt: number): void {
    if (this.#started) this.write(sseFrames.expired(expiresAt));
    this.connection.close();
  }

  ended(): void {
    this.#end();
  }

  failed(err: unknown): void {
    this.log.warn({ err, stream: this.stream }, "SSE stream failed");
    this.#end();
  }

  #end(): void {
    this.#keepAlive.remove(this);
    this.#unsent?.close();
    this.res.end();
    this.connection.close();
  }
}

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
