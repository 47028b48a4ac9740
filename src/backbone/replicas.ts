import type { JetStreamManager, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { JetStreamApiError } from "@nats-io/jetstream/internal";

/**
 * The replicas a declared stream takes: its schema's pin; else the `replicas` setting; else,
 * for a stream that exists, the replicas it has (an operator's scaling is never undone
 * silently); else 1.
 */
export function streamReplicas(pinned: number | undefined, configured: number | undefined, existing: number | undefined): number {
  return pinned ?? configured ?? existing ?? 1;
}

/**
 * The replicas the gateway's own state takes: the `replicas` setting, else as many as the most
 * replicated stream has, so the state survives whatever the events survive.
 */
export function stateReplicas(configured: number | undefined, streams: Iterable<number>): number {
  return configured ?? Math.max(1, ...streams);
}

/** JetStream would not keep a stream at the replicas asked, with its reason (too few servers, most often). */
export class ReplicasRefusedError extends Error {
  constructor(stream: string, replicas: number, reason: string, options?: { cause: unknown }) {
    super(
      `stream "${stream}": JetStream refused ${replicas} replica${replicas === 1 ? "" : "s"}: ${reason}. ` +
        `Streams take the replicas their schema pins, else the replicas setting (STREAMGATE_REPLICAS), ` +
        `as the gateway's own state does; JetStream needs a cluster of at least that many servers.`,
      options,
    );
    this.name = "ReplicasRefusedError";
  }
}

/** The JetStream API errors that refuse a stream its replicas. */
const REPLICAS_REFUSED_CODES = new Set([
  10005, // JSClusterNoPeersErr: no suitable peers for placement (more replicas than servers)
  10023, // JSInsufficientResourcesErr
  10074, // JSStreamReplicasNotSupportedErr: replicas > 1 not supported in non-clustered mode
]);

/** Runs a request that places `stream` at `replicas`, JetStream's refusal of the replicas a ReplicasRefusedError. */
export async function placing<T>(stream: string, replicas: number, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (err instanceof JetStreamApiError && REPLICAS_REFUSED_CODES.has(err.code)) {
      throw new ReplicasRefusedError(stream, replicas, err.message, { cause: err });
    }
    throw err;
  }
}

/** Creates a stream at `replicas`. */
export function addStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }, replicas: number): Promise<StreamInfo> {
  return placing(config.name, replicas, () => jsm.streams.add({ ...config, num_replicas: replicas }));
}

/** Scales an existing stream in place, up or down; JetStream copies its data to new peers. Whether it changed. */
export async function scaleStream(jsm: JetStreamManager, info: StreamInfo, replicas: number): Promise<boolean> {
  const { name, num_replicas: current } = info.config;
  if (current === replicas) return false;
  // A server outside a cluster refuses to create a replicated stream, but takes the same number
  // in an update and goes on keeping one copy; its stream info names no cluster.
  if (replicas > 1 && !info.cluster?.name) {
    throw new ReplicasRefusedError(name, replicas, "the JetStream server keeping it is not part of a cluster, so it keeps one copy");
  }
  await placing(name, replicas, () => jsm.streams.update(name, { num_replicas: replicas }));
  return true;
}
