import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsCluster, type NatsClusterNode } from "../../src/dev-cluster/nats-cluster.js";

export type TestClusterNode = NatsClusterNode;

export interface TestCluster {
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  nodes: TestClusterNode[];
  /** Stops every node, then starts them all again on their ports and stores; resolves once they run. */
  restart(): Promise<void>;
  /** Stops every node and deletes their stores. */
  stop(): Promise<void>;
}

/**
 * n real nats-servers with JetStream, routed to each other on loopback as one cluster (the dev
 * cluster's, src/dev-cluster/nats-cluster.ts). Resolves once JetStream can place a stream on all n.
 */
export async function startTestCluster(n: number): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-test-cluster-"));
  try {
    const cluster = await startNatsCluster({ dir, nodes: n });
    return {
      url: cluster.url,
      nodes: cluster.nodes,
      async restart() {
        await cluster.stop();
        await cluster.start();
      },
      async stop() {
        await cluster.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
