/**
 * Faults of the NATS cluster under load (issue 13): the orders stream's leader and the node
 * holding the webhook state killed and restarted, a node partitioned away and healed, the whole
 * cluster stopped and restarted. One topology, the faults in sequence, each checked on its own.
 */
import { describe, expect, it } from "vitest";
import { sleep, until } from "../support/wait.js";
import { expectNoHarm, expectReaderStallsAtMost } from "./bars.js";
import { faultClusterFor } from "./fault-cluster.js";
import { DURATIONS, testTimeoutMs } from "./mode.js";
import { connectBackbone } from "../../src/backbone/connection.js";
import { Placement, WEBHOOK_STATE_STREAMS } from "./placement.js";
import { untilEveryReadyz } from "./readiness.js";
import { seconds } from "./report.js";
import { runFault } from "./scenario.js";

const SUITE = "nats-faults";
/** Issue 13: readers resume within 10 s of a leader's death. */
const LEADER_KILL_STALL_MS = 10_000;
/** How long the webhook API may take to answer again once the node holding its state is gone. */
const STATE_SERVED_AGAIN_MS = 10_000;

const env = faultClusterFor(SUITE);

/** The node a stream's leader runs on. */
async function leaderNode(stream: string) {
  const name = await env().placement.leader(stream);
  const node = env().cluster.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`${stream}'s leader ${name} is none of ${env().cluster.nodes.map((n) => n.name).join(", ")}`);
  return node;
}

describe("the NATS cluster's faults, under load", () => {
  it("keeps every piece of webhook state at three replicas, like the streams", async () => {
    for (const stream of ["orders", ...WEBHOOK_STATE_STREAMS]) expect.soft(await env().placement.replicas(stream), stream).toBe(3);
  });

  it(
    "kill -9 the orders stream's leader, then restart it",
    async () => {
      const run = await runFault(SUITE, env().cluster, "orders leader killed", async () => {
        const node = await leaderNode("orders");
        const killedAt = Date.now();
        await node.kill();
        let measured;
        try {
          const elected = await env().placement.newLeader("orders", node.name);
          const electedAfter = Date.now() - killedAt;
          measured = { killed: node.name, "new leader": elected, "elected after s": seconds(electedAfter) };
          await sleep(Math.max(0, DURATIONS.nodeDownMs - electedAfter));
        } finally {
          await node.start();
        }
        await env().placement.healed("orders", 3);
        return measured;
      });
      expectNoHarm(run);
      expectReaderStallsAtMost(run, LEADER_KILL_STALL_MS);
    },
    testTimeoutMs(DURATIONS.nodeDownMs),
  );

  it(
    "kill -9 the node holding the webhook state, then restart it: the webhook API and every webhook carry on",
    async () => {
      let servedAgain = true;
      const run = await runFault(SUITE, env().cluster, "webhook state's node killed", async (workload) => {
        const node = await leaderNode("KV_streamgate_webhooks");
        const killedAt = Date.now();
        await node.kill();
        let servedAfter: number;
        try {
          // While the node is still down: every registration is listed again.
          servedAgain = await until(() => workload.probe.servedSince(killedAt), "the webhook API listing every webhook", STATE_SERVED_AGAIN_MS).then(
            () => true,
            () => false,
          );
          servedAfter = Date.now() - killedAt;
          for (const stream of WEBHOOK_STATE_STREAMS) await env().placement.when(stream, (i) => i.cluster?.leader !== undefined && i.cluster.leader !== node.name, "a leader on a live node");
          await sleep(Math.max(0, DURATIONS.nodeDownMs - (Date.now() - killedAt)));
        } finally {
          await node.start();
        }
        for (const stream of WEBHOOK_STATE_STREAMS) await env().placement.healed(stream, 3);
        return { killed: node.name, "webhook API served again after s": servedAgain ? seconds(servedAfter) : `not within ${seconds(STATE_SERVED_AGAIN_MS)}` };
      });
      expect.soft(servedAgain, `the webhook API listed every webhook within ${STATE_SERVED_AGAIN_MS} ms of the node's death`).toBe(true);
      expectNoHarm(run);
    },
    testTimeoutMs(DURATIONS.nodeDownMs),
  );

  it(
    "partition the orders stream's leader away from the other nodes, then heal it",
    async () => {
      const run = await runFault(SUITE, env().cluster, "orders leader partitioned", async () => {
        const node = await leaderNode("orders");
        // Asked through a node on the majority's side: the cut-off one only knows its own view.
        const witness = await connectBackbone(env().cluster.nodes.find((n) => n !== node)!.url, "fault-suite-witness");
        const cutAt = Date.now();
        await node.partition();
        let measured;
        try {
          const elected = await new Placement(witness).newLeader("orders", node.name);
          const electedAfter = Date.now() - cutAt;
          measured = { partitioned: node.name, "new leader": elected, "elected after s": seconds(electedAfter) };
          await sleep(Math.max(0, DURATIONS.partitionMs - electedAfter));
        } finally {
          await node.heal();
          await witness.nc.close();
        }
        await env().placement.healed("orders", 3);
        return measured;
      });
      expectNoHarm(run);
    },
    testTimeoutMs(DURATIONS.partitionMs),
  );

  it(
    "stop the whole cluster, then restart it: the gateways go unready and recover by themselves",
    async () => {
      const { gateways } = env().cluster;
      const run = await runFault(SUITE, env().cluster, "whole cluster stopped", async () => {
        const stoppedAt = Date.now();
        await env().cluster.stopNats();
        let unreadyAfter: number;
        try {
          unreadyAfter = await untilEveryReadyz(gateways, 503, 30_000);
          await sleep(Math.max(0, DURATIONS.clusterStopMs - (Date.now() - stoppedAt)));
        } finally {
          await env().cluster.startNats();
        }
        const startedAt = stoppedAt + DURATIONS.clusterStopMs;
        const natsUpAfter = Math.max(0, Date.now() - startedAt);
        const readyAfter = await untilEveryReadyz(gateways, 200, 60_000);
        return { "every /readyz 503 after s": seconds(unreadyAfter), "NATS up again in s": seconds(natsUpAfter), "then every /readyz 200 after s": seconds(readyAfter) };
      });
      expectNoHarm(run);
    },
    testTimeoutMs(DURATIONS.clusterStopMs),
  );
});
