import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { CLOSE_CODES } from "@streamgate/protocol/errors";
import { every, type Periodic, type Ticker } from "../../net/ticker.js";

/**
 * Less than this written ahead of an unanswered ping, and the peer had every chance to read
 * it within a ping interval: it is gone.
 */
const DEAD_PEER_SLACK_BYTES = 64 * 1024;

/**
 * Pings the peer every `intervalMs` and drops it once it stops answering (PROTOCOL.md 5.4).
 *
 * A ping waits behind the data written before it, in the socket and in the kernel, where the
 * gateway cannot see how much is left. So a missed pong proves a dead peer only when little
 * was written between the last answered ping and the unanswered one. Otherwise the peer may
 * just read slowly: it gets until `slowConsumerTimeoutMs` to answer, then it is closed with
 * 4008 and resumes from its last offset, as any slow consumer.
 *
 * Its state is in fields and its tick a method: every idle connection has one. Its owner
 * tells it of each pong, and stops it when the socket closes.
 */
export class Heartbeat implements Periodic {
  #readUpTo: number;
  /** When the unanswered ping was sent, and how much had been written before it. */
  #pingedAt = 0;
  #writtenBeforePing = 0;
  #unanswered = false;
  readonly #ticker: Ticker;

  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Socket,
    intervalMs: number,
    private readonly slowConsumerTimeoutMs: number,
  ) {
    this.#readUpTo = raw.bytesWritten;
    this.#ticker = every(intervalMs);
    this.#ticker.add(this);
  }

  stop(): void {
    this.#ticker.remove(this);
  }

  /** The peer answered a ping: it read everything written before it. */
  answered(): void {
    if (this.#unanswered) this.#readUpTo = this.#writtenBeforePing;
    this.#unanswered = false;
  }

  tick(): void {
    if (!this.#unanswered) {
      this.socket.ping();
      this.#unanswered = true;
      this.#pingedAt = Date.now();
      this.#writtenBeforePing = this.raw.bytesWritten;
      return;
    }
    if (this.#writtenBeforePing - this.#readUpTo <= DEAD_PEER_SLACK_BYTES) return this.socket.terminate();
    if (Date.now() - this.#pingedAt >= this.slowConsumerTimeoutMs) {
      this.socket.close(CLOSE_CODES.slowConsumer, "slow consumer: resume from your last offset");
    }
  }
}
