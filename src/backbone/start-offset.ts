import type { JetStreamClient } from "@nats-io/jetstream";
import { offsetAtTime } from "./offset-at-time.js";
import type { StreamState } from "./stream-state.js";
import { InvalidPositionError, positionFromFields, resolvePosition, type GapNotice, type PositionFields } from "../protocol/position.js";

/**
 * The exact offset a read starts at, for every kind of position, and its gap notice if any.
 * A position that cannot be served is refused with the stream's current range in the message.
 */
export async function resolveStartOffset(
  js: JetStreamClient,
  fields: PositionFields,
  state: StreamState,
  epoch?: string,
): Promise<{ startOffset: number; gap?: GapNotice }> {
  let resolved: ReturnType<typeof resolvePosition>;
  try {
    resolved = resolvePosition(positionFromFields(fields), state, epoch);
  } catch (err) {
    if (err instanceof InvalidPositionError) throw new InvalidPositionError(err.problem, state);
    throw err;
  }
  const { start, gap } = resolved;
  let startOffset: number;
  if ("startSeq" in start) startOffset = start.startSeq;
  // Nothing is stored in the future; asking the server would overflow its clock past 2262.
  else if (new Date(start.startTime).getTime() > Date.now()) startOffset = state.lastOffset + 1;
  else startOffset = await offsetAtTime(js, state.name, start.startTime);
  return { startOffset, ...(gap && { gap }) };
}
