import type { FastifyPluginAsync } from "fastify";
import type { JetStreamManager } from "@nats-io/jetstream";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { readStreamState } from "../backbone/stream-state.js";
import type { EncodedEvent } from "../fanout/encoded-event.js";
import type { Hub } from "../fanout/hub.js";
import type { GapNotice } from "../protocol/position.js";
import type { Schemas } from "../schema/registry.js";
import { GapNotice as GapNoticeMessage } from "../../generated/ts/streamgate/v1/event.js";
import { integerParam, parseReadQuery, single, type Query } from "./read-request.js";
import { ApiError } from "../gateway/errors.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Shutdown } from "../delivery/shutdown.js";
import { requireStream } from "../gateway/routes/streams.js";

export interface PollRouteOptions {
  hub: Hub;
  jsm: JetStreamManager;
  schemas: Schemas;
  shutdown: Shutdown;
  metrics: Metrics;
}

export const MAX_POLL_EVENTS = 1000;
/** A batch stops growing past this many bytes of events, whatever `max` says. */
const MAX_POLL_BYTES = 4 * 1024 * 1024;
export const MAX_POLL_WAIT_S = 60;

/** GET /v1/streams/{stream}/poll (PROTOCOL.md section 5.2): long polling, and short with wait=0. */
export const pollRoutes: FastifyPluginAsync<PollRouteOptions> = async (app, { hub, jsm, schemas, shutdown, metrics }) => {
  app.get<{ Params: { stream: string }; Querystring: Query }>("/v1/streams/:stream/poll", async (request, reply) => {
    const stream = requireStream(schemas, request.params.stream);
    const read = parseReadQuery(stream, request.query);
    const max = integerParam(request.query, "max", 1, MAX_POLL_EVENTS, 100);
    const waitMs = waitParam(single(request.query, "wait")) * 1000;
    const { reader } = await hub.open(read);

    const gone = new AbortController();
    const closed = metrics.open("poll");
    const waited = AbortSignal.any([gone.signal, AbortSignal.timeout(waitMs)]);
    const stopWhenDone = shutdown.onShutdown(() => gone.abort());
    reply.raw.once("close", () => gone.abort());
    const events: EncodedEvent[] = [];
    let gap: GapNotice | undefined;
    let next = reader.cursor;
    let bytes = 0;
    try {
      while (events.length < max && bytes < MAX_POLL_BYTES) {
        // Wait (up to `wait`) for the first event only; then take what is already there.
        const item = await reader.next({ wait: events.length === 0 && waited, signal: gone.signal });
        if (!item) {
          next = reader.cursor;
          break;
        }
        if (item.kind === "gap") {
          // A gap after events ends the batch; the next poll, from `next`, reports it.
          if (events.length > 0 || gap) break;
          gap = item.gap;
        } else {
          events.push(item.event);
          bytes += item.event.stored.data.byteLength;
        }
        next = reader.cursor;
      }
    } finally {
      closed();
      stopWhenDone();
      reader.close();
    }
    metrics.delivered.add(events.length, { protocol: "poll" });

    const state = await readStreamState(jsm, stream.name);
    if (wantsProtobuf(request.headers.accept)) {
      return reply.type("application/x-protobuf").send(encodeBatch(events, next, state.firstOffset, state.lastOffset, gap));
    }
    // Written by hand around each event's shared envelope JSON (which also keeps -0 intact).
    const tail = JSON.stringify({ next, first_offset: state.firstOffset, last_offset: state.lastOffset, ...(gap && { gap }) });
    return reply
      .type("application/json; charset=utf-8")
      .send(`{"events":[${events.map((e) => e.json).join(",")}],${tail.slice(1)}`);
  });
};

function waitParam(raw: string | undefined): number {
  if (raw === undefined) return 30;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds > MAX_POLL_WAIT_S) {
    throw new ApiError("invalid_argument", `wait must be 0 to ${MAX_POLL_WAIT_S} seconds, not "${raw}"`);
  }
  return seconds;
}

function wantsProtobuf(accept: string | undefined): boolean {
  return accept !== undefined && /\bapplication\/x-protobuf\b/.test(accept);
}

/** streamgate.v1.EventBatch, reusing each event's shared encoding as field 1. */
function encodeBatch(
  events: readonly EncodedEvent[],
  next: number,
  firstOffset: number,
  lastOffset: number,
  gap: GapNotice | undefined,
): Uint8Array {
  const writer = new BinaryWriter();
  for (const event of events) writer.tag(1, WireType.LengthDelimited).bytes(event.proto);
  writer.tag(2, WireType.Varint).uint64(next);
  writer.tag(3, WireType.Varint).uint64(firstOffset);
  writer.tag(4, WireType.Varint).uint64(lastOffset);
  if (gap) {
    const notice = GapNoticeMessage.encode({
      stream: gap.stream,
      requested: BigInt(gap.requested),
      first: BigInt(gap.first),
      epoch: gap.epoch,
    }).finish();
    writer.tag(5, WireType.LengthDelimited).bytes(notice);
  }
  return writer.finish();
}
