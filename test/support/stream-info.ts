import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import { sleep } from "./wait.js";

/** The JetStream streams the gateway keeps its own state in (PROTOCOL.md section 7). */
export const STATE_STREAMS = [
  "KV_streamgate_webhooks",
  "KV_streamgate_webhook_stats",
  "SG_WEBHOOK_ATTEMPTS",
  "SG_WEBHOOK_DEAD",
  "SG_WEBHOOK_REDELIVER",
];

/**
 * Stream info once `holds` says it is as wanted, asked again (through elections, which may
 * fail the asking too) until timeoutMs; then the last info, for the caller to judge.
 */
export async function streamInfoWhen(
  jsm: JetStreamManager,
  stream: string,
  holds: (info: StreamInfo) => boolean,
  timeoutMs = 20_000,
): Promise<StreamInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.streams.info(stream).catch((err: unknown) => {
      if (Date.now() > deadline) throw err;
      return undefined;
    });
    if (info && (holds(info) || Date.now() > deadline)) return info;
    await sleep(100);
  }
}

/** The peers holding a replica besides the leader. */
export const peersOf = (info: StreamInfo) => info.cluster?.replicas?.length ?? 0;

/** The stream is kept by `replicas` servers, the leader and replicas - 1 peers that caught up with it. */
export const placedAt = (replicas: number) => (info: StreamInfo) =>
  info.config.num_replicas === replicas &&
  info.cluster?.leader !== undefined &&
  peersOf(info) === replicas - 1 &&
  (info.cluster.replicas ?? []).every((peer) => peer.current);

/** The stream's leader, once it has one. */
export const leaderOf = async (jsm: JetStreamManager, stream: string) =>
  (await streamInfoWhen(jsm, stream, (info) => info.cluster?.leader !== undefined)).cluster?.leader;

/** The stream's info once it has a leader other than `former`. */
export const newLeader = (jsm: JetStreamManager, stream: string, former: string | undefined) =>
  streamInfoWhen(jsm, stream, (info) => info.cluster?.leader !== undefined && info.cluster.leader !== former);
