/**
 * A gateway whose NATS server is partitioned away from the rest of the cluster moves its
 * connection to another server (src/backbone/cut-off-server.ts), so it is ready again and its
 * readers get what is published during the partition, before the partition heals.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDevCluster, type DevCluster, type DevClusterNode } from "../../src/dev-cluster/dev-cluster.js";
import { client } from "../support/http.js";
import { T, tag } from "../support/events.js";
import { eventually } from "../support/wait.js";

let dir: string;
let cluster: DevCluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-cut-off-"));
  cluster = await startDevCluster({ dir, nodes: 3, gateways: 1, port: 0, gatewayEnv: { STREAMGATE_REPLICAS: "3" } });
});
afterAll(async () => {
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The gateway's NATS clients on this node (connection names start with "streamgate"), from its monitoring port. */
async function gatewayClientsOn(node: DevClusterNode): Promise<number> {
  const connz = (await (await fetch(`${node.monitorUrl}/connz`)).json()) as { connections?: { name?: string }[] };
  return (connz.connections ?? []).filter((c) => c.name?.startsWith("streamgate")).length;
}

it("moves to another NATS server within seconds of a partition, ready again and delivering", async () => {
  const gateway = cluster.gateways[0]!;
  const http = client(gateway.url);
  const home = (await eventually(
    async () => {
      for (const node of cluster.nodes) if ((await gatewayClientsOn(node)) > 0) return node;
      return undefined;
    },
    (node) => node !== undefined,
    "the node the gateway is connected to",
  ))!;
  const before = await http.postJson("/v1/streams/orders/events", { type: T.shipped, data: { orderId: tag("before") } });
  expect(before.status).toBe(201);
  const next = (before.body as { offset: number }).offset + 1;

  await home.partition();
  const partitionedAt = Date.now();
  try {
    await eventually(
      async () => ({ left: (await gatewayClientsOn(home)) === 0, ready: (await http.get("/readyz")).status === 200 }),
      (state) => state.left && state.ready,
      "the gateway connected elsewhere and ready again during the partition",
      40_000,
    );
    const movedAfterMs = Date.now() - partitionedAt;
    const during = await eventually(
      () => http.postJson("/v1/streams/orders/events", { type: T.shipped, data: { orderId: tag("during") } }),
      (res) => res.status === 201,
      "a publish during the partition",
      20_000,
    );
    const read = await http.get(`/v1/streams/orders/poll?from=${next}&wait=10`);
    expect(read.status).toBe(200);
    expect((read.body as { events: { offset: number }[] }).events.map((e) => e.offset)).toContain((during.body as { offset: number }).offset);
    console.log(`[cut-off] gateway ready on another server ${movedAfterMs} ms after its server was partitioned away`);
  } finally {
    await home.heal();
  }
}, 120_000);
