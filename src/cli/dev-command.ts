import { InvalidArgumentError, type Command } from "commander";
import { startDevCluster, type DevCluster } from "../dev-cluster/dev-cluster.js";
import { portNumber, wholeNumber } from "./number-arguments.js";

interface DevClusterCommandOptions {
  gateways: number;
  port: number;
  dir: string;
}

/** `dev cluster`: the topology of docs/deployment.md on loopback, for trying it out and for the fault tests. */
export function addDevCommands(program: Command): void {
  const dev = program.command("dev").description("development helpers");
  dev
    .command("cluster")
    .description("run a three-node NATS JetStream cluster, gateways on it and haproxy in front of them on loopback, until Ctrl-C")
    .option("--gateways <n>", "gateways behind the load balancer", atLeastOne, 2)
    .option("--port <port>", "the load balancer's port (0: a free one)", portNumber, 8080)
    .option("--dir <dir>", "where the nodes' stores, the gateways' data dirs, the configurations and the logs go", ".streamgate-cluster")
    .action(runDevCluster);
}

function atLeastOne(text: string): number {
  const n = wholeNumber(text);
  if (n < 1) throw new InvalidArgumentError("at least 1");
  return n;
}

async function runDevCluster(options: DevClusterCommandOptions): Promise<void> {
  // Listening from the start: a Ctrl-C while it starts stops it once it has started, leaving
  // nothing behind. Every signal after the first is ignored: a terminal's Ctrl-C reaches us
  // both directly and through npm and tsx, and a second default SIGINT would kill us half-way.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    console.error(`starting 3 NATS nodes, ${options.gateways} gateway(s) and haproxy in ${options.dir} …`);
    const cluster = await startDevCluster({ dir: options.dir, gateways: options.gateways, port: options.port });
    printCluster(cluster);
    const signal = await stopSignal;
    console.error(`${signal}: stopping haproxy, the gateways and the NATS nodes …`);
    await cluster.close();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  console.error("stopped");
}

function printCluster(cluster: DevCluster): void {
  const lines = [
    `load balancer  ${cluster.url}`,
    `NATS_URL       ${cluster.natsUrl}`,
    ...cluster.gateways.map((gateway) => `gateway ${gateway.name.padEnd(6)} ${gateway.url}  (pid ${gateway.pid}, log ${gateway.log})`),
    ...cluster.nodes.map((node) => `nats ${node.name.padEnd(9)} ${node.url}  (monitor ${node.monitorUrl}, log ${node.log})`),
    `haproxy        ${cluster.loadBalancerConfig}`,
    "Ctrl-C stops everything.",
  ];
  console.log(lines.join("\n"));
}
