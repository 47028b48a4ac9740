import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { waitUntil } from "./wait-until.js";

const PROBE_STREAM = "dev_cluster_probe";

/**
 * Resolves once a stream of `replicas` replicas can be created: the cluster has elected its
 * metadata leader and every node has joined it.
 */
export async function untilJetStreamPlaces(natsUrl: string, replicas: number, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: natsUrl.split(","), name: "dev-cluster-probe" });
  try {
    // Not asking JetStream at once: it may not answer yet, which is what this waits for.
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    await waitUntil(
      `JetStream placing a stream on ${replicas} replicas`,
      async () => {
        await jsm.streams.add({ name: PROBE_STREAM, subjects: [PROBE_STREAM], num_replicas: replicas, storage: StorageType.Memory });
        await jsm.streams.delete(PROBE_STREAM);
        return true;
      },
      timeoutMs,
    );
  } finally {
    await nc.close();
  }
}
