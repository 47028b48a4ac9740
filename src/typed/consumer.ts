import { createFileRegistry } from "@bufbuild/protobuf";
import type { Backbone } from "../backbone/connection.js";
import { readStreamState, type StreamState } from "../backbone/stream-state.js";
import type { StoredEvent } from "../backbone/stored-event.js";
import { Hub } from "../fanout/hub.js";
import type { Reader } from "../fanout/reader.js";
import { isBackboneUnavailable } from "../backbone/errors.js";
import { checkedPosition, InvalidPositionError, type GapNotice, type Position } from "@streamgate/protocol/position";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import type { Schemas } from "../schema/registry.js";
import type { AnyStreamDescriptor, ConsumedEvent, EventTypeOf, StreamDescriptor, EventTypeDescriptor } from "@streamgate/protocol/stream";

export interface ConsumeOptions<S> {
  /** Where to start; the default is { from: "now" }. */
  position?: Position;
  /** The epoch the caller last knew; a different one yields a gap notice and starts at the oldest event. */
  epoch?: string;
  types?: readonly EventTypeOf<S>[];
  key?: string;
  onGap?: (notice: GapNotice) => void;
  /**
   * Events this program cannot read as its types: written with a newer schema (a new event
   * type) or undecodable bytes. They are skipped after this is called; nothing is thrown.
   */
  onUnreadable?: (event: StoredEvent, reason: string) => void;
  signal?: AbortSignal;
}

/** The typed consumer decodes with its own generated codecs: the hub needs no schemas to transcode. */
const NO_SCHEMAS: Schemas = { registry: createFileRegistry(), streams: new Map() };
const RETRY_MS = 500;

/**
 * Reads a stream as typed events, in offset order, from any position, then live, through the
 * same reader as every protocol: events removed before they were read are reported through
 * onGap, never skipped silently. Through backbone trouble it retries from where it stood.
 * Break out of the loop (or abort the signal) to stop.
 */
export async function* consume<Events extends Record<string, EventTypeDescriptor<unknown>>>(
  backbone: Pick<Backbone, "js" | "jsm">,
  stream: StreamDescriptor<Events>,
  options: ConsumeOptions<StreamDescriptor<Events>> = {},
): AsyncGenerator<ConsumedEvent<StreamDescriptor<Events>>> {
  const untyped: AnyStreamDescriptor = stream;
  const { signal } = options;
  if (signal?.aborted) return;
  let spec: ReadSpec = {
    position: checkedWithRange(options.position ?? { from: "now" }, await readStreamState(backbone.jsm, stream.name)),
    ...(options.epoch !== undefined && { epoch: options.epoch }),
    ...(options.types && { types: options.types }),
    ...(options.key !== undefined && { key: options.key }),
  };
  const hub = new Hub(backbone, NO_SCHEMAS, () => undefined);
  let failures = 0;
  try {
    while (!signal?.aborted) {
      let reader: Reader | undefined;
      try {
        reader = await hub.open(await readStreamState(backbone.jsm, stream.name), spec);
        for (;;) {
          const item = await reader.next({ wait: true, ...(signal && { signal }) });
          if (!item) break;
          failures = 0;
          if (item.kind === "gap") {
            // Resumed reads ask in the stream's current generation, or each would report it again.
            spec = { ...spec, epoch: item.gap.epoch };
            options.onGap?.(item.gap);
            continue;
          }
          const event = item.event.stored;
          const typedEvent = typedOrUnreadable(untyped, event, options.onUnreadable);
          if (typedEvent) yield typedEvent as ConsumedEvent<StreamDescriptor<Events>>;
        }
      } catch (err) {
        // The backbone's trouble passes; anything else (a refused position, a bug) is final.
        if (!isBackboneUnavailable(err)) throw err;
        if (signal?.aborted) return;
        await sleep(Math.min(5_000, RETRY_MS * 2 ** failures++));
      } finally {
        // The feed ended (the stream was re-created, or the backbone failed) or the read
        // broke: go on exactly where it stood.
        if (reader) spec = { ...spec, position: { from: reader.cursor } };
        reader?.close();
      }
    }
  } finally {
    hub.close();
  }
}

function checkedWithRange(position: Position, state: StreamState): Position {
  try {
    return checkedPosition(position);
  } catch (err) {
    throw err instanceof InvalidPositionError ? err.withRange(state) : err;
  }
}

function typedOrUnreadable(
  stream: AnyStreamDescriptor,
  event: StoredEvent,
  onUnreadable: ((event: StoredEvent, reason: string) => void) | undefined,
): unknown {
  const eventType = stream.events[event.type];
  if (!eventType) {
    onUnreadable?.(event, `type ${event.type || "(none)"} is not an event of stream ${stream.name} in this program's schema`);
    return undefined;
  }
  try {
    const data = eventType.codec.decode(event.data);
    const { offset, id, key, time, type } = event;
    return { type, data, offset, id, key, time };
  } catch (err) {
    onUnreadable?.(event, `bytes do not decode as ${event.type}: ${(err as Error).message}`);
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
