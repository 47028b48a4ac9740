import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pickFreePort, PortInUseError, startNatsServer, type RunningNatsServer } from "../../src/backbone/nats-server.js";
import { sleep } from "./wait.js";

const HOST = "127.0.0.1";
/** Ports we pick can be taken before nats-server binds them; the whole cluster starts again. */
const START_ATTEMPTS = 3;
const JETSTREAM_READY_MS = 30_000;

export interface TestClusterNode {
  /** The nats-server name, as stream info's cluster.leader and cluster.replicas[].name give it. */
  name: string;
  url: string;
  /** Ends the node at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts a killed node again on its ports and store; resolves once it runs. */
  start(): Promise<void>;
}

export interface TestCluster {
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  nodes: TestClusterNode[];
  /** Stops every node, then starts them all again on their ports and stores; resolves once they run. */
  restart(): Promise<void>;
  /** Stops every node and deletes their stores. */
  stop(): Promise<void>;
}

interface NodePlan {
  name: string;
  port: number;
  clusterPort: number;
  storeDir: string;
}

/**
 * n real nats-servers with JetStream, routed to each other on loopback as one cluster.
 * Resolves once JetStream can place a stream on all n of them.
 */
export async function startTestCluster(n: number): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-test-cluster-"));
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        // A fresh store per attempt: nothing of a cluster that failed to start is carried over.
        return await startPlannedCluster(dir, await planNodes(join(dir, `attempt-${attempt}`), n));
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= START_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function planNodes(dir: string, n: number): Promise<NodePlan[]> {
  const plans: NodePlan[] = [];
  for (let i = 0; i < n; i++) {
    plans.push({
      name: `n${i + 1}`,
      port: await pickFreePort(HOST),
      clusterPort: await pickFreePort(HOST),
      storeDir: join(dir, `n${i + 1}`),
    });
  }
  return plans;
}

async function startPlannedCluster(dir: string, plans: NodePlan[]): Promise<TestCluster> {
  const routes = plans.map((plan) => `nats://${HOST}:${plan.clusterPort}`).join(",");
  const startNode = (plan: NodePlan) =>
    startNatsServer({
      storeDir: plan.storeDir,
      host: HOST,
      port: plan.port,
      // Every node is given every route, its own too: nats-server ignores a route to itself.
      args: ["-n", plan.name, "--cluster_name", "streamgate-test", "--cluster", `nats://${HOST}:${plan.clusterPort}`, "--routes", routes],
    });
  /** The running server of each node; undefined while it is killed. */
  const servers: (RunningNatsServer | undefined)[] = [];
  const stopAll = () => Promise.all(servers.map((server) => server?.stop()));
  const startAll = async () => {
    const started = await Promise.allSettled(plans.map(startNode));
    started.forEach((result, i) => (servers[i] = result.status === "fulfilled" ? result.value : undefined));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) {
      await stopAll();
      throw failed.reason;
    }
  };

  await startAll();
  const url = plans.map((plan) => `nats://${HOST}:${plan.port}`).join(",");
  const cluster: TestCluster = {
    url,
    nodes: plans.map((plan, i) => ({
      name: plan.name,
      url: `nats://${HOST}:${plan.port}`,
      async kill() {
        const server = servers[i];
        if (!server) return;
        servers[i] = undefined;
        process.kill(server.pid, "SIGKILL");
        await server.stop();
      },
      async start() {
        servers[i] ??= await startNode(plan);
      },
    })),
    async restart() {
      await stopAll();
      await startAll();
    },
    async stop() {
      await stopAll();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await untilJetStreamPlaces(url, plans.length);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/**
 * Waits until a stream of `replicas` replicas can be created: the cluster has elected its
 * metadata leader and every node has joined it.
 */
async function untilJetStreamPlaces(url: string, replicas: number): Promise<void> {
  const nc = await connect({ servers: url.split(","), name: "test-cluster-probe" });
  // Not asking JetStream at once: it may not answer yet, which is what this waits for.
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const deadline = Date.now() + JETSTREAM_READY_MS;
  try {
    for (;;) {
      try {
        await jsm.streams.add({ name: "cluster_probe", subjects: ["cluster_probe"], num_replicas: replicas, storage: StorageType.Memory });
        await jsm.streams.delete("cluster_probe");
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`JetStream could not place ${replicas} replicas within ${JETSTREAM_READY_MS} ms: ${(error as Error).message}`);
        }
        await sleep(100);
      }
    }
  } finally {
    await nc.close();
  }
}
