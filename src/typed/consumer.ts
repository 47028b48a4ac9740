import type { Backbone } from "../backbone/connection.js";
import { readStoredEvents } from "../backbone/reader.js";
import { readStreamState } from "../backbone/stream-state.js";
import { filterSubject } from "../backbone/subjects.js";
import type { StoredEvent } from "../backbone/stored-event.js";
import type { GapNotice, Position } from "../protocol/position.js";
import { resolveStartOffset } from "../backbone/start-offset.js";
import type { AnyStreamDescriptor, ConsumedEvent, EventTypeOf, StreamDescriptor, EventTypeDescriptor } from "./stream.js";

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

/**
 * Reads a stream as typed events, in offset order, from any position, then live.
 * Break out of the loop (or abort the signal) to stop.
 */
export async function* consume<Events extends Record<string, EventTypeDescriptor<unknown>>>(
  backbone: Pick<Backbone, "js" | "jsm">,
  stream: StreamDescriptor<Events>,
  options: ConsumeOptions<StreamDescriptor<Events>> = {},
): AsyncGenerator<ConsumedEvent<StreamDescriptor<Events>>> {
  const untyped: AnyStreamDescriptor = stream;
  const state = await readStreamState(backbone.jsm, stream.name);
  const { startOffset, gap } = await resolveStartOffset(backbone.js, options.position ?? { from: "now" }, state, options.epoch);
  if (gap) options.onGap?.(gap);

  const types = options.types ? new Set<string>(options.types) : undefined;
  const filter = { ...(options.types && { types: options.types }), ...(options.key !== undefined && { key: options.key }) };
  const stored = readStoredEvents(backbone.js, {
    stream: stream.name,
    startOffset,
    filterSubject: filterSubject(stream.name, filter),
    ...(options.signal && { signal: options.signal }),
  });
  for await (const event of stored) {
    if (types && !types.has(event.type)) continue;
    const eventType = untyped.events[event.type];
    if (!eventType) {
      options.onUnreadable?.(event, `type ${event.type || "(none)"} is not an event of stream ${stream.name} in this program's schema`);
      continue;
    }
    let data: unknown;
    try {
      data = eventType.codec.decode(event.data);
    } catch (err) {
      options.onUnreadable?.(event, `bytes do not decode as ${event.type}: ${(err as Error).message}`);
      continue;
    }
    const { offset, id, key, time, type } = event;
    yield { type, data, offset, id, key, time } as ConsumedEvent<StreamDescriptor<Events>>;
  }
}
