import type { StreamState } from "../backbone/stream-state.js";
import type { GapNotice } from "@streamgate/protocol/position";

/**
 * Whether a read that expected offset `expected` next, and was handed `arrived` instead, lost
 * events to retention. JetStream skips removed offsets without a word, so `stream` must be read
 * after `arrived` came: whatever removal made the server skip happened before it served it.
 * A filtered read skips offsets anyway; for it a removal below the skip is reported even when
 * none of the removed events matched: a needless notice beats a silent loss.
 */
export function gapBefore(
  expected: number,
  arrived: number,
  stream: Pick<StreamState, "name" | "firstOffset" | "epoch">,
): GapNotice | undefined {
  if (arrived <= expected || expected >= stream.firstOffset) return undefined;
  return { stream: stream.name, requested: expected, first: Math.min(arrived, stream.firstOffset), epoch: stream.epoch };
}
