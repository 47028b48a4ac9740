import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import { sleep } from "./wait.js";

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

/** How many peers besides the leader the stream has. */
export const peersOf = (info: StreamInfo): number => info.cluster?.replicas?.length ?? 0;

export const leaderOf = async (jsm: JetStreamManager, stream: string): Promise<string | undefined> =>
  (await streamInfoWhen(jsm, stream, (info) => info.cluster?.leader !== undefined)).cluster?.leader;

/** The stream has a leader other than `former`. */
export const newLeader = (jsm: JetStreamManager, stream: string, former: string | undefined): Promise<StreamInfo> =>
  streamInfoWhen(jsm, stream, (info) => info.cluster?.leader !== undefined && info.cluster.leader !== former);

/** The stream has every peer back and caught up. */
export const healed = (jsm: JetStreamManager, stream: string, replicas: number): Promise<StreamInfo> =>
  streamInfoWhen(jsm, stream, (info) => peersOf(info) === replicas - 1 && info.cluster!.replicas!.every((peer) => peer.current));
