/**
 * The topology each fault file runs on: `streamgate dev cluster`'s three NATS nodes, two
 * gateways and the load balancer, with the example streams declared R3 (the gateway's state
 * takes the replicas of its most replicated stream); plus the suite's own connection to the cluster, to find leaders.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { startDevCluster, type DevCluster } from "../../src/dev-cluster/dev-cluster.js";
import { writeReplicatedSchemas } from "../support/replicated-schemas.js";
import { Placement } from "./placement.js";

export interface FaultCluster {
  cluster: DevCluster;
  placement: Placement;
  close(): Promise<void>;
}

export async function startFaultCluster(): Promise<FaultCluster> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-faults-"));
  const schemas = await writeReplicatedSchemas(3);
  const undo: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true }), () => schemas.remove()];
  const close = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    const cluster = await startDevCluster({
      dir,
      descriptorSet: schemas.path,
      gatewayEnv: {
        STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8",
        STREAMGATE_LOG_LEVEL: "warn",
      },
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
