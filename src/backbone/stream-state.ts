import { createHash } from "node:crypto";
import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";

/** Where a stream stands now, in PROTOCOL.md's terms. */
export interface StreamState {
  name: string;
  /** The oldest retained offset; last_offset + 1 when the stream holds nothing. */
  firstOffset: number;
  lastOffset: number;
  events: number;
  bytes: number;
  epoch: string;
  created: string;
}

export async function readStreamState(jsm: JetStreamManager, stream: string): Promise<StreamState> {
  return streamState(await jsm.streams.info(stream));
}

export function streamState(info: StreamInfo): StreamState {
  const { state } = info;
  const lastOffset = state.last_seq;
  return {
    name: info.config.name,
    // A new stream reports first_seq 0; after a purge first_seq is last_seq + 1 already.
    firstOffset: state.messages === 0 ? lastOffset + 1 : state.first_seq,
    lastOffset,
    events: state.messages,
    bytes: state.bytes,
    epoch: epochOf(info.created),
    created: info.created,
  };
}

/** The stream's creation time names its generation of offsets: re-created, it changes. */
export function epochOf(created: string): string {
  return createHash("sha256").update(created).digest("base64url").slice(0, 12);
}
