/**
 * partition() drops one node's routes while its clients stay connected: the other two elect a
 * new leader for a stream it led and see it gone from their routes; heal() brings it back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsCluster, type NatsCluster, type NatsClusterNode } from "../../src/dev-cluster/nats-cluster.js";
import { eventually } from "../support/wait.js";

let dir: string;
let cluster: NatsCluster;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-partition-"));
  cluster = await startNatsCluster({ dir, nodes: 3 });
});
afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

async function managerOn(nodes: NatsClusterNode[]): Promise<JetStreamManager> {
  const nc = await connect({ servers: nodes.map((node) => node.url), name: "partition-test" });
  connections.push(nc);
  // Not asking JetStream at once: during a partition it may be electing its leaders.
  return jetstreamManager(nc, { checkAPI: false });
}

const routesOf = async (node: NatsClusterNode) => ((await (await fetch(`${node.monitorUrl}/routez`)).json()) as { num_routes: number }).num_routes;
const infoOf = (jsm: JetStreamManager, stream: string) => jsm.streams.info(stream).catch((): StreamInfo | undefined => undefined);

describe("a partitioned node", () => {
  it("loses its routes and the leadership of its streams, keeps its clients, and is routed again after heal()", async () => {
    const everyone = await managerOn(cluster.nodes);
    await everyone.streams.add({ name: "partitioned", subjects: ["partitioned.>"], num_replicas: 3 });
    const leaderName = (await eventually(() => infoOf(everyone, "partitioned"), (info) => info?.cluster?.leader !== undefined, "a leader"))!.cluster!.leader;
    const leader = cluster.nodes.find((node) => node.name === leaderName)!;
    const others = cluster.nodes.filter((node) => node !== leader);
    const onLeader = await connect({ servers: leader.url, name: "partition-test-leader-client" });
    connections.push(onLeader);
    for (const node of cluster.nodes) expect(await routesOf(node), `${node.name}'s routes before`).toBe(2);

    const fromOthers = await managerOn(others);

    await leader.partition();

    expect(await routesOf(leader), "the partitioned node's routes").toBe(0);
    for (const node of others) expect(await routesOf(node), `${node.name}'s routes during the partition`).toBe(1);
    const during = (await eventually(
      () => infoOf(fromOthers, "partitioned"),
      (info) => info?.cluster?.leader !== undefined && info.cluster.leader !== leaderName,
      "a new leader among the other two",
      20_000,
    ))!;
    expect(others.map((node) => node.name)).toContain(during.cluster!.leader);
    const absent = during.cluster!.replicas!.find((peer) => peer.name === leaderName);
    expect(absent?.current, "the partitioned node is not a current replica").toBe(false);
    // Its own client connection was never cut.
    expect(onLeader.isClosed()).toBe(false);
    await onLeader.flush();

    await leader.heal();

    for (const node of cluster.nodes) expect(await routesOf(node), `${node.name}'s routes after heal()`).toBe(2);
    const healed = (await eventually(
      () => infoOf(everyone, "partitioned"),
      (info) => info?.cluster?.replicas?.length === 2 && info.cluster.replicas.every((peer) => peer.current),
      "every replica current again",
      20_000,
    ))!;
    expect(healed.cluster!.replicas!.map((peer) => peer.current)).toEqual([true, true]);
  });
});
