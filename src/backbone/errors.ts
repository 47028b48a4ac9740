import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";
import { ApiError } from "@streamgate/protocol/errors";
import { JetStreamApiError, JetStreamError, JetStreamStatusError, jserrors } from "@nats-io/jetstream/internal";

/** What JetStream answers when the stream asked about does not exist. */
export const StreamNotFoundError: typeof jserrors.StreamNotFoundError = jserrors.StreamNotFoundError;
/** What JetStream answers when the consumer asked about does not exist (or no longer: idle past its threshold). */
export const ConsumerNotFoundError: typeof jserrors.ConsumerNotFoundError = jserrors.ConsumerNotFoundError;

/** The backbone did not answer, or answered "not now"; the same request may well work later. */
export class BackboneUnavailableError extends ApiError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    // Retry after a second: long enough for a reconnect or a leader election to finish.
    super("unavailable", message, undefined, 1);
    this.name = "BackboneUnavailableError";
    this.cause = options.cause;
  }
}

/**
 * A read heard nothing from its consumer (no event, no heartbeat) for longer than the server's
 * heartbeats allow: the node holding the consumer died, or our connection did.
 */
export class ReadStalledError extends BackboneUnavailableError {
  constructor(stream: string, silentMs: number) {
    super(`the read of stream ${stream} heard nothing from its consumer for ${silentMs} ms`);
    this.name = "ReadStalledError";
  }
}

/** Our connection is closing or closed: nothing asked of it again can work. */
export function isConnectionEnding(err: unknown): boolean {
  return err instanceof ClosedConnectionError || err instanceof DrainingConnectionError;
}

/**
 * JetStream API errors that mean "ask again later" although their HTTP-like status is 500:
 * the stream or consumer lost its leader, or the server asked was not (yet) given it.
 */
const ELECTION_ERROR_CODES = new Set([
  10007, // JSClusterNotAssignedErr: JetStream cluster not assigned to this server
  10009, // JSClusterNotLeaderErr: JetStream cluster can not handle request
  10118, // JSStreamOfflineErr: stream is offline
  10119, // JSConsumerOfflineErr: consumer is offline
]);

/**
 * True when err says the backbone is unreachable, shutting our connection down, or electing a
 * leader, rather than that the request itself was wrong.
 */
export function isBackboneUnavailable(err: unknown): boolean {
  if (
    err instanceof BackboneUnavailableError ||
    err instanceof TimeoutError ||
    err instanceof NoRespondersError ||
    err instanceof ConnectionError ||
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError ||
    // No responders on $JS.API: the server is up but its JetStream is not (yet).
    err instanceof jserrors.JetStreamNotEnabled ||
    // The gateway asks only about streams it declared and provisioned: one JetStream does not
    // know (yet) is a cluster still recovering its streams after a restart, or one lost.
    err instanceof StreamNotFoundError
  ) {
    return true;
  }
  // Without a cause: the connection closed or dropped while the request was out.
  if (err instanceof RequestError) return err.cause === undefined || isBackboneUnavailable(err.cause);
  if (err instanceof JetStreamApiError) return err.status === 503 || ELECTION_ERROR_CODES.has(err.code);
  // A pull answered with a status: 503 is no responders.
  if (err instanceof JetStreamStatusError) return err.code === 503;
  // The base class alone is what nats.js raises when a pull's heartbeats stop coming, or an
  // ack cannot be read: both a server that does not answer as it should.
  return err instanceof JetStreamError && err.constructor === JetStreamError;
}

/** err as a BackboneUnavailableError when it is backbone trouble, else undefined. */
export function asBackboneUnavailable(err: unknown): BackboneUnavailableError | undefined {
  if (err instanceof BackboneUnavailableError) return err;
  if (!isBackboneUnavailable(err)) return undefined;
  return new BackboneUnavailableError(`the NATS backbone is unavailable: ${(err as Error).message}`, { cause: err });
}
