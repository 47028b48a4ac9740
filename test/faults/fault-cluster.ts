/**
 * The topology each fault file runs on: `streamgate dev cluster`'s three NATS nodes, two
 * gateways and the load balancer, with STREAMGATE_REPLICAS=3 (the shipped streams and every
 * piece of gateway state at three replicas); plus the suite's own connection to the cluster,
 * to find leaders.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { startDevCluster, type DevCluster } from "../../src/dev-cluster/dev-cluster.js";
import { afterAll, beforeAll } from "vitest";
import { Placement } from "./placement.js";
import { startReport } from "./report.js";

export interface FaultCluster {
  cluster: DevCluster;
  placement: Placement;
  close(): Promise<void>;
}

export async function startFaultCluster(): Promise<FaultCluster> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-faults-"));
  const undo: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    const cluster = await startDevCluster({
      dir,
      gatewayEnv: { STREAMGATE_REPLICAS: "3", STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8", STREAMGATE_LOG_LEVEL: "warn" },
    });
    undo.push(() => cluster.close());
    const backbone: Backbone = await connectBackbone(cluster.natsUrl, "fault-suite");
    undo.push(() => backbone.nc.close());
    return { cluster, placement: new Placement(backbone), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * One fault cluster for a test file, started before its tests (and its report begun) and
 * closed after them; answers the running cluster.
 */
export function faultClusterFor(suite: string): () => FaultCluster {
  let env: FaultCluster | undefined;
  beforeAll(async () => {
    startReport(suite);
    env = await startFaultCluster();
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });
  return () => {
    if (!env) throw new Error(`the ${suite} fault cluster is not running`);
    return env;
  };
}
