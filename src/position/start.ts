import type { JetStreamClient } from "@nats-io/jetstream";
import { offsetAtTime } from "../backbone/offset-at-time.js";
import type { StreamState } from "../backbone/stream-state.js";
import { resolvePosition, type GapNotice, type Position } from "./position.js";

/** The exact offset a read starts at, for every kind of position, and its gap notice if any. */
export async function resolveStartOffset(
  js: JetStreamClient,
  position: Position,
  state: StreamState,
  epoch?: string,
): Promise<{ startOffset: number; gap?: GapNotice }> {
  const { start, gap } = resolvePosition(position, state, epoch);
  const startOffset = "startSeq" in start ? start.startSeq : await offsetAtTime(js, state.name, start.startTime);
  return { startOffset, ...(gap && { gap }) };
}
