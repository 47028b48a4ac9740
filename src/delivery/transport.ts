import type { ReadItem } from "../fanout/reader.js";

/**
 * What a protocol can do with what a Delivery reads: send it, and tell when the peer has taken
 * what was sent. Everything else (checks, reading, backpressure, metrics, shutdown) is the
 * Delivery's, the same for every protocol.
 */
export interface Transport {
  /** Sends one event or gap notice; false once the peer's unsent bytes reach the high water. */
  send(item: ReadItem): boolean;
  /** Resolves once the peer has taken what was sent (a real drain), or is gone. */
  drained(): Promise<void>;
}

export type Protocol = "sse" | "poll" | "ws";
