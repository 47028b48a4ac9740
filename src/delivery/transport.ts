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
  /**
   * The delivery ended: "stopped" (closed, or its connection ended) or "feed-ended" (the
   * stream was re-created or the backbone failed: the client should read again from its last
   * offset). Called once, or `failed` is.
   */
  ended(how: "stopped" | "feed-ended"): void;
  /** The delivery broke: the client is told, and may read again from its last offset. */
  failed(err: unknown): void;
}

export type Protocol = "sse" | "poll" | "ws";
