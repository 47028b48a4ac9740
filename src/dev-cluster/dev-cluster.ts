import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { pickFreePort } from "../backbone/nats-server.js";
import { GatewayProcess } from "./gateway-process.js";
import { findHaproxy, startHaproxy, type RunningHaproxy } from "./haproxy.js";
import { startNatsCluster, type NatsCluster, type NatsClusterNode } from "./nats-cluster.js";
import { waitUntil } from "./wait-until.js";

const HOST = "127.0.0.1";
/** Health checks every 500 ms, two to rise: a few seconds even on a loaded machine. */
const ROTATION_TIMEOUT_MS = 15_000;

export interface DevClusterOptions {
  /** Where data dirs, configurations and logs go: nats/, gateways/, haproxy/. */
  dir: string;
  /** NATS nodes, default 3. */
  nodes?: number;
  /** Gateways, default 2. */
  gateways?: number;
  /** The load balancer's port; 0 or unset: a free one. */
  port?: number;
  /** More environment for every gateway (e.g. STREAMGATE_REPLICAS=3). */
  gatewayEnv?: Record<string, string>;
  /** The descriptor set the gateways serve (STREAMGATE_DESCRIPTOR_SET); default the gateway's own. */
  descriptorSet?: string;
}

/** One nats-server of the cluster. */
export type DevClusterNode = NatsClusterNode;

/** One `streamgate serve` process. */
export interface DevClusterGateway {
  /** As the load balancer names it. */
  name: string;
  /** Direct, bypassing the load balancer. */
  url: string;
  /** Of the running process; throws while it is killed. */
  readonly pid: number;
  /** Its stdout and stderr. */
  log: string;
  /** SIGKILL, as a crash would; resolves once it is gone. */
  kill(): Promise<void>;
  /** Again, on the same port and data dir; resolves once its /readyz is 200 (at once if it runs). */
  start(): Promise<void>;
}

export interface DevCluster {
  /** The load balancer: what clients use. */
  url: string;
  /** Every node's client URL, comma-separated (NATS_URL). */
  natsUrl: string;
  nodes: DevClusterNode[];
  gateways: DevClusterGateway[];
  /** The haproxy configuration it runs with: deploy/haproxy.cfg filled in. */
  loadBalancerConfig: string;
  loadBalancerLog: string;
  loadBalancerPid: number;
  /** The names of the gateways the load balancer sends requests to now. */
  gatewaysInRotation(): Promise<string[]>;
  /** Every node down (SIGTERM). */
  stopNats(): Promise<void>;
  /** Every node up again on the same ports and stores; resolves once JetStream places streams on all. */
  startNats(): Promise<void>;
  /** Everything down, nothing left running. */
  close(): Promise<void>;
}

/**
 * On loopback: a NATS JetStream cluster, gateways on it, and haproxy in front of them with
 * deploy/haproxy.cfg. Resolves once every gateway is ready and in the load balancer's rotation.
 */
export async function startDevCluster(options: DevClusterOptions): Promise<DevCluster> {
  // Before anything starts: a missing load balancer is the likeliest thing to be wrong.
  const haproxyBinary = await findHaproxy();
  if (options.port) await ensurePortFree(HOST, options.port);
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const stack: (() => Promise<void>)[] = [];
  const closeStarted = async () => {
    for (const close of stack.splice(0).reverse()) await close();
  };
  try {
    const nats = await startNatsCluster({ dir: join(dir, "nats"), nodes: options.nodes ?? 3 });
    stack.push(() => nats.close());
    const gateways = await startGateways(dir, nats, options);
    stack.push(() => Promise.all(gateways.map((gateway) => gateway.stop())).then(() => {}));
    const haproxy = await startHaproxy({
      binary: haproxyBinary,
      dir: join(dir, "haproxy"),
      host: HOST,
      port: options.port || (await pickFreePort(HOST)),
      gateways: gateways.map((gateway) => ({ name: gateway.name, host: HOST, port: gateway.port })),
    });
    stack.push(() => haproxy.stop());
    const names = gateways.map((gateway) => gateway.name);
    const allInRotation = async () => {
      const inRotation = await haproxy.serversInRotation();
      return names.every((name) => inRotation.includes(name));
    };
    await waitUntil("every gateway in the load balancer's rotation", allInRotation, ROTATION_TIMEOUT_MS);
    return devCluster(nats, gateways, haproxy, closeStarted);
  } catch (error) {
    await closeStarted();
    throw error;
  }
}

export class PortTakenError extends Error {
  constructor(host: string, port: number) {
    super(`the load balancer's port ${host}:${port} is taken by another process: choose another one (0: a free one)`);
    this.name = "PortTakenError";
  }
}

async function ensurePortFree(host: string, port: number): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortTakenError(host, port);
    throw error;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function startGateways(dir: string, nats: NatsCluster, options: DevClusterOptions): Promise<GatewayProcess[]> {
  const env = { ...(options.descriptorSet && { STREAMGATE_DESCRIPTOR_SET: resolve(options.descriptorSet) }), ...options.gatewayEnv };
  const gateways: GatewayProcess[] = [];
  for (let i = 1; i <= (options.gateways ?? 2); i++) {
    gateways.push(new GatewayProcess({ name: `gw${i}`, port: await pickFreePort(HOST), dir: join(dir, "gateways"), natsUrl: nats.url, env }));
  }
  try {
    // The first provisions the streams alone; the others then find them in place.
    await gateways[0]?.start();
    await Promise.all(gateways.slice(1).map((gateway) => gateway.start()));
  } catch (error) {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    throw error;
  }
  return gateways;
}

function devCluster(nats: NatsCluster, gateways: GatewayProcess[], haproxy: RunningHaproxy, close: () => Promise<void>): DevCluster {
  return {
    url: `http://${HOST}:${haproxy.port}`,
    natsUrl: nats.url,
    nodes: nats.nodes,
    gateways,
    loadBalancerConfig: haproxy.configFile,
    loadBalancerLog: haproxy.log,
    loadBalancerPid: haproxy.pid,
    gatewaysInRotation: () => haproxy.serversInRotation(),
    stopNats: () => nats.stop(),
    startNats: () => nats.start(),
    close,
  };
}
