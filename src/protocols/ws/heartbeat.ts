import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { CLOSE_CODES } from "@streamgate/protocol/errors";
import { every } from "../../net/ticker.js";

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
 */
export function startHeartbeat(socket: WebSocket, raw: Socket, intervalMs: number, slowConsumerTimeoutMs: number): void {
  new Heartbeat(socket, raw, slowConsumerTimeoutMs).start(intervalMs);
}

/** Its state in fields and its handlers as methods: every idle connection has one. */
class Heartbeat {
  #readUpTo: number;
  /** When the unanswered ping was sent, and how much had been written before it. */
  #pingedAt = 0;
  #writtenBeforePing = 0;
  #unanswered = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Socket,
    private readonly slowConsumerTimeoutMs: number,
  ) {
    this.#readUpTo = raw.bytesWritten;
  }

  start(intervalMs: number): void {
    this.socket.on("pong", this.#answered);
    this.socket.on("close", every(intervalMs, this.#tick));
  }

  readonly #answered = (): void => {
    if (this.#unanswered) this.#readUpTo = this.#writtenBeforePing;
    this.#unanswered = false;
  };

  readonly #tick = (): void => {
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
  };
}
