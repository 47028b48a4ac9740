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
  let readUpTo = raw.bytesWritten;
  let unanswered: { at: number; after: number } | undefined;
  socket.on("pong", () => {
    if (unanswered) readUpTo = unanswered.after;
    unanswered = undefined;
  });
  const ping = () => {
    socket.ping();
    unanswered = { at: Date.now(), after: raw.bytesWritten };
  };
  const stop = every(intervalMs, () => {
    if (!unanswered) return ping();
    if (unanswered.after - readUpTo <= DEAD_PEER_SLACK_BYTES) return socket.terminate();
    if (Date.now() - unanswered.at >= slowConsumerTimeoutMs) {
      socket.close(CLOSE_CODES.slowConsumer, "slow consumer: resume from your last offset");
    }
  });
  socket.on("close", stop);
}
