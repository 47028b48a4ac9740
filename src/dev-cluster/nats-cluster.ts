import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pickFreePort, PortInUseError, startNatsServer, type RunningNatsServer } from "../backbone/nats-server.js";
import { untilJetStreamPlaces } from "./jetstream-placement.js";
import { RouteProxy } from "./route-proxy.js";
import { waitUntil } from "./wait-until.js";

const HOST = "127.0.0.1";
const CLUSTER_NAME = "streamgate-dev";
/** Ports we pick can be taken before nats-server binds them; then every node starts again on new ones. */
const START_ATTEMPTS = 3;
const JETSTREAM_READY_MS = 30_000;
/** nats-server solicits a lost route again every second; a few tries on a loaded machine. */
const ROUTES_SETTLE_MS = 15_000;
const ROUTE_LISTEN_MS = 10_000;

export interface NatsClusterOptions {
  /** One store dir and one log file per node go below it. */
  dir: string;
  nodes: number;
}

export interface NatsClusterNode {
  /** The nats-server name, as stream info's cluster.leader and cluster.replicas[].name give it. */
  name: string;
  /** Its client URL. */
  url: string;
  /** Its HTTP monitoring endpoint (/varz, /routez, /jsz). */
  monitorUrl: string;
  /** Its log file. */
  log: string;
  /** Of the running nats-server; undefined while it is down. */
  readonly pid: number | undefined;
  /** Ends the node at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on its ports and store; resolves once it runs (at once if it runs). */
  start(): Promise<void>;
  /** Drops its routes to every other node and refuses new ones; its clients stay connected. Resolves once it has no route. */
  partition(): Promise<void>;
  /** Lets its routes form again; resolves once it is routed to every other node that runs and is not partitioned. */
  heal(): Promise<void>;
}

export interface NatsCluster {
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  nodes: NatsClusterNode[];
  /** Every node down (SIGTERM). */
  stop(): Promise<void>;
  /** Every node that is down started again on its ports and store; resolves once JetStream places streams on all of them. */
  start(): Promise<void>;
  /** Every node down and every route relay closed. */
  close(): Promise<void>;
}

interface NodePlan {
  name: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
  logFile: string;
}

/**
 * A cluster of real nats-servers with JetStream on loopback. Every route runs through a relay
 * of ours, one per ordered pair of nodes, which is what partition() cuts. Resolves once
 * JetStream can place a stream on every node.
 */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  // One node has no routes to run through relays, and is what startNatsServer is for.
  if (!Number.isInteger(options.nodes) || options.nodes < 2) throw new RangeError(`a NATS cluster has 2 nodes or more, not ${options.nodes}`);
  await mkdir(options.dir, { recursive: true });
  // The relays listen first, so that no port picked for a node below is one of theirs.
  const relays = await relaysFor(options.nodes);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startPlannedCluster(await planNodes(options), relays);
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= START_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    await closeRelays(relays);
    throw error;
  }
}

async function planNodes(options: NatsClusterOptions): Promise<NodePlan[]> {
  const plans: NodePlan[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const name = `n${i}`;
    plans.push({
      name,
      port: await pickFreePort(HOST),
      clusterPort: await pickFreePort(HOST),
      monitorPort: await pickFreePort(HOST),
      storeDir: join(options.dir, name),
      logFile: join(options.dir, `${name}.log`),
    });
  }
  return plans;
}

/** The relays of one node: those it dials the others through, those they dial it through. */
interface NodeRelays {
  outgoing: RouteProxy[];
  incoming: RouteProxy[];
  /** What the node advertises as its cluster address: a relay pointed nowhere, which refuses everything. */
  gossipSink: RouteProxy;
}

async function startPlannedCluster(plans: NodePlan[], relays: NodeRelays[]): Promise<NatsCluster> {
  for (const [j, node] of relays.entries()) for (const relay of node.incoming) relay.pointAt(plans[j]!.clusterPort);
  const logs = plans.map((plan) => createWriteStream(plan.logFile, { flags: "a" }));
  const servers: (RunningNatsServer | undefined)[] = [];
  const partitioned = new Set<number>();

  /** Node starts under way: a second start() of a node waits for the first. */
  const starting = new Map<number, Promise<void>>();
  const startNode = (i: number): Promise<void> => {
    if (servers[i]) return Promise.resolve();
    let start = starting.get(i);
    if (!start) {
      start = launchNode(i).finally(() => starting.delete(i));
      starting.set(i, start);
    }
    return start;
  };
  const launchNode = async (i: number) => {
    const plan = plans[i]!;
    const nodeRelays = relays[i]!;
    const log = logs[i]!;
    const routeListener = new RouteListenerWatch(plan.name);
    const server = await startNatsServer({
      storeDir: plan.storeDir,
      host: HOST,
      port: plan.port,
      log: (line) => {
        log.write(line + "\n");
        routeListener.read(line);
      },
      args: [
        ...["-n", plan.name, "-m", String(plan.monitorPort)],
        ...["--cluster_name", CLUSTER_NAME, "--cluster", `nats://${HOST}:${plan.clusterPort}`],
        ...["--routes", nodeRelays.outgoing.map((relay) => `nats://${HOST}:${relay.port}`).join(",")],
        // A node tells the others of its peers' addresses, and they would dial those directly,
        // around the relays. The advertised address is a dead end, so only our routes carry traffic.
        ...["--cluster_advertise", `${HOST}:${nodeRelays.gossipSink.port}`],
      ],
    });
    try {
      await routeListener.listening;
    } catch (error) {
      await server.stop();
      throw error;
    }
    servers[i] = server;
  };
  const stopAll = async () => {
    const running = servers.splice(0, servers.length);
    await Promise.all(running.map((server) => server?.stop()));
  };
  const startAll = async () => {
    const started = await Promise.allSettled(plans.map((_, i) => startNode(i)));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) {
      await stopAll();
      throw failed.reason;
    }
    await untilJetStreamPlaces(url, plans.length, JETSTREAM_READY_MS);
  };
  const closeLogs = () => Promise.all(logs.map((log) => new Promise<void>((resolve) => log.end(resolve))));

  const url = plans.map((plan) => `nats://${HOST}:${plan.port}`).join(",");
  const routeCount = async (i: number) => {
    const res = await fetch(`http://${HOST}:${plans[i]!.monitorPort}/routez`);
    return ((await res.json()) as { num_routes: number }).num_routes;
  };
  /** The routes node i has once things settle: one to every other running node outside a partition. */
  const routesDue = (i: number) =>
    partitioned.has(i) ? 0 : plans.filter((_, j) => j !== i && servers[j] !== undefined && !partitioned.has(j)).length;
  const untilRoutesSettle = (i: number, what: string) =>
    servers[i] === undefined ? Promise.resolve() : waitUntil(`${plans[i]!.name} ${what}`, async () => (await routeCount(i)) === routesDue(i), ROUTES_SETTLE_MS);

  const cluster: NatsCluster = {
    url,
    nodes: plans.map((plan, i) => ({
      name: plan.name,
      url: `nats://${HOST}:${plan.port}`,
      monitorUrl: `http://${HOST}:${plan.monitorPort}`,
      log: plan.logFile,
      get pid() {
        return servers[i]?.pid;
      },
      async kill() {
        const server = servers[i];
        if (!server) return;
        servers[i] = undefined;
        process.kill(server.pid, "SIGKILL");
        await server.stop();
      },
      start: () => startNode(i),
      async partition() {
        partitioned.add(i);
        for (const relay of [...relays[i]!.outgoing, ...relays[i]!.incoming]) relay.cut();
        await untilRoutesSettle(i, "without routes");
      },
      async heal() {
        partitioned.delete(i);
        for (const relay of [...relays[i]!.outgoing, ...relays[i]!.incoming]) {
          // A relay between this node and another partitioned one stays cut.
          if (!relayTouchesPartition(relays, relay, partitioned)) relay.restore();
        }
        await untilRoutesSettle(i, "routed to the others again");
      },
    })),
    stop: stopAll,
    start: startAll,
    async close() {
      await stopAll();
      await closeRelays(relays);
      await closeLogs();
    },
  };
  try {
    await startAll();
  } catch (error) {
    // The relays outlive a start that failed on a port: the next attempt points them anew.
    await stopAll();
    await closeLogs();
    throw error;
  }
  return cluster;
}

/**
 * nats-server says it is ready before it listens for routes, and a route port someone took
 * ends it only then: a node has started once its log says it listens for routes.
 */
class RouteListenerWatch {
  readonly listening: Promise<void>;
  readonly #lines: string[] = [];
  #settle: ((error?: Error) => void) | undefined;

  constructor(node: string) {
    this.listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle?.(new Error(`nats-server ${node} did not listen for routes within ${ROUTE_LISTEN_MS / 1000} s`)), ROUTE_LISTEN_MS);
      this.#settle = (error) => {
        clearTimeout(timer);
        this.#settle = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
    // Settled while nats-server still starts, before anyone awaits it.
    this.listening.catch(() => {});
  }

  read(line: string): void {
    this.#lines.push(line);
    if (line.includes("Listening for route connections")) this.#settle?.();
    if (line.includes("Error listening on router port")) this.#settle?.(new PortInUseError("its route port is taken", this.#lines.slice(-5)));
  }
}

async function relaysFor(nodes: number): Promise<NodeRelays[]> {
  const relays: NodeRelays[] = [];
  for (let i = 0; i < nodes; i++) relays.push({ outgoing: [], incoming: [], gossipSink: await RouteProxy.listen(HOST) });
  for (const [i, from] of relays.entries()) {
    for (const [j, to] of relays.entries()) {
      if (i === j) continue;
      const relay = await RouteProxy.listen(HOST);
      from.outgoing.push(relay);
      to.incoming.push(relay);
    }
  }
  return relays;
}

async function closeRelays(relays: NodeRelays[]): Promise<void> {
  await Promise.all(relays.flatMap((node) => [...node.outgoing, node.gossipSink]).map((relay) => relay.close()));
}

function relayTouchesPartition(relays: NodeRelays[], relay: RouteProxy, partitioned: ReadonlySet<number>): boolean {
  return [...partitioned].some((k) => relays[k]!.outgoing.includes(relay) || relays[k]!.incoming.includes(relay));
}
