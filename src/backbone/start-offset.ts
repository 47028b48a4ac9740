import type { JetStreamClient } from "@nats-io/jetstream";
import { resolvePosition, type GapNotice, type Position } from "@streamgate/protocol/position";
import { offsetAtTime } from "./offset-at-time.js";
import type { StreamState } from "./stream-state.js";

/**
 * The exact offset a read starts at, for every kind of (checked) position, and its gap notice
 * if any. A position that cannot be served is refused with the stream's current range.
 */
export async function resolveStartOffset(
  js: JetStreamClient,
  position: Position,
  state: StreamState,
  epoch?: string,
): Promise<{ startOffset: number; gap?: GapNotice }> {
  const start = resolvePosition(position, state, epoch);
  if ("startOffset" in start) return start;
  // Nothing is stored in the future; asking the server would overflow its clock past 2262.
  if (new Date(start.since).getTime() > Date.now()) return { startOffset: state.lastOffset + 1 };
  return { startOffset: await offsetAtTime(js, state.name, start.since) };
}

