/**
 * Where JetStream keeps a stream: its leader and replicas, asked through the suite's own
 * connection to the cluster, again and again through elections (which fail the asking too).
 */
import type { StreamInfo } from "@nats-io/jetstream";
import type { Backbone } from "../../src/backbone/connection.js";
import { sleep } from "../support/wait.js";

/** The streams of the gateway's webhook state (PROTOCOL.md section 7). */
export const WEBHOOK_STATE_STREAMS = ["KV_streamgate_webhooks", "KV_streamgate_webhook_stats", "SG_WEBHOOK_ATTEMPTS", "SG_WEBHOOK_DEAD", "SG_WEBHOOK_REDELIVER"];

const ASK_PAUSE_MS = 100;

export class Placement {
  constructor(private readonly backbone: Backbone) {}

  /** The stream's info once `holds` says so; rejects with the last info or error after timeoutMs. */
  async when(stream: string, holds: (info: StreamInfo) => boolean, what: string, timeoutMs = 30_000): Promise<StreamInfo> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      const info = await this.backbone.jsm.streams.info(stream).catch((err: unknown) => {
        last = err;
        return undefined;
      });
      if (info && holds(info)) return info;
      if (info) last = info.cluster;
      if (Date.now() > deadline) throw new Error(`${stream}: ${what} not within ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
      await sleep(ASK_PAUSE_MS);
    }
  }

  async leader(stream: string): Promise<string> {
    return (await this.when(stream, (info) => info.cluster?.leader !== undefined, "a leader")).cluster!.leader!;
  }

  /** Waits for a leader other than `former`; resolves with it. */
  async newLeader(stream: string, former: string): Promise<string> {
    const info = await this.when(stream, (i) => i.cluster?.leader !== undefined && i.cluster.leader !== former, `a leader other than ${former}`);
    return info.cluster!.leader!;
  }

  /** Waits until the stream has a leader and every one of its `replicas - 1` peers is current. */
  async healed(stream: string, replicas: number): Promise<void> {
    await this.when(
      stream,
      (info) => info.cluster?.leader !== undefined && info.cluster.replicas?.length === replicas - 1 && info.cluster.replicas.every((peer) => peer.current),
      "every replica current",
      60_000,
    );
  }

  /** The stream's configured replicas. */
  async replicas(stream: string): Promise<number> {
    return (await this.when(stream, () => true, "its info")).config.num_replicas;
  }
}
