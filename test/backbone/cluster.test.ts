/**
 * A gateway on a real three-node JetStream cluster (loopback): its own state takes the replicas
 * its streams take when the replicas setting is unset (PROTOCOL.md section 7), a leader election is never a 500 (section 4), and
 * /readyz waits for JetStream after the whole cluster restarts (section 7).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, Empty } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import type { RunningGateway } from "../../src/app.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { writeReplicatedSchemas } from "../support/replicated-schemas.js";
import type { Client, HttpResponse } from "../support/http.js";
import { startClusterGateway } from "../support/cluster-gateway.js";
import { expectOkOrUnavailable, expectUnavailable } from "../support/backbone-trouble.js";
import { sleep } from "../support/wait.js";
import { peersOf, STATE_STREAMS, streamInfoWhen, leaderOf, newLeader } from "../support/stream-info.js";
import { T, tag } from "../support/events.js";

const EVENT_STREAMS = ["orders", "metrics"];

let cluster: TestCluster;
let schemas: Awaited<ReturnType<typeof writeReplicatedSchemas>>;
/** The test's own connection to the cluster. */
let backbone: Backbone;
let gateway: RunningGateway | undefined;
let api: Client;

beforeAll(async () => {
  cluster = await startTestCluster(3);
  schemas = await writeReplicatedSchemas(3);
  backbone = await connectBackbone(cluster.url, "cluster-test");
});
afterAll(async () => {
  await gateway?.stop();
  await backbone?.nc.close();
  await cluster?.stop();
  await schemas?.remove();
});

/** A gateway on the cluster serving the R3 example streams; env adds to its configuration. */
async function startGateway(env: NodeJS.ProcessEnv = {}): Promise<RunningGateway> {
  const started = await startClusterGateway(cluster.url, schemas.path, env);
  api = started.api;
  return started.gateway;
}

describe("the gateway's state on a three-node cluster", () => {
  it("takes the replicas of the most replicated stream, and state kept at fewer is scaled up in place", async () => {
    // An earlier gateway kept its state at one replica, and registered a webhook there.
    const earlier = await startGateway({ STREAMGATE_REPLICAS: "1" });
    let webhookId: string;
    try {
      for (const stream of STATE_STREAMS) expect((await backbone.jsm.streams.info(stream)).config.num_replicas, stream).toBe(1);
      const created = await api.postJson("/v1/webhooks", { url: "http://127.0.0.1:9/hook", stream: "orders", paused: true });
      expect(created.status, created.text).toBe(201);
      webhookId = created.body.id;
    } finally {
      await earlier.stop();
    }

    // No STREAMGATE_REPLICAS: the streams' 3 is the default.
    gateway = await startGateway();
    for (const stream of [...EVENT_STREAMS, ...STATE_STREAMS]) {
      const info = await streamInfoWhen(backbone.jsm, stream, (i) => peersOf(i) === 2);
      expect(info.config.num_replicas, stream).toBe(3);
      expect(info.cluster?.leader, `${stream} has a leader`).toBeTruthy();
      expect(peersOf(info), `${stream}: peers besides the leader`).toBe(2);
    }
    const kept = await api.get(`/v1/webhooks/${webhookId}`);
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.status).toBe("paused");
  });
});

describe("leader elections of the orders stream", () => {
  it("answers every read and publish 200 or 503 with Retry-After, never 500", async () => {
    expect(gateway, "the gateway of the test above").toBeDefined();
    const answers: [string, HttpResponse][] = [];
    let electionsDone = false;
    /**
     * Asks one route again and again, each answer kept, until it is served after the elections
     * (or 20 s after them): what it resolves to.
     */
    const keepAsking = async (what: string, ask: () => Promise<HttpResponse>, served: number): Promise<boolean> => {
      let settleBy = Infinity;
      for (;;) {
        const res = await ask();
        answers.push([what, res]);
        // Paced, not flooding: the machine running this is small.
        await sleep(10);
        if (electionsDone && settleBy === Infinity) settleBy = Date.now() + 20_000;
        if (electionsDone && (res.status === served || Date.now() > settleBy)) return res.status === served;
      }
    };
    const load = Promise.all([
      keepAsking("poll", () => api.get("/v1/streams/orders/poll?from=first&wait=0"), 200),
      keepAsking("stream info", () => api.get("/v1/streams/orders"), 200),
      keepAsking(
        "publish",
        () => {
          const id = tag("election");
          // Longer than a store may retry through an election (15 s, each try up to 5 s).
          const req = { method: "POST", path: "/v1/streams/orders/events", json: { type: T.shipped, id, data: { orderId: id } } } as const;
          return api.send(req, 30_000);
        },
        201,
      ),
    ]);

    let servedAgain: boolean[];
    try {
      // One leader hands over; the next dies with its node, as in a crash.
      const first = await leaderOf(backbone.jsm, "orders");
      const answered = await backbone.nc.request("$JS.API.STREAM.LEADER.STEPDOWN.orders", Empty, { timeout: 5_000 });
      expect(answered.json<{ success?: boolean }>(), "stepdown").toMatchObject({ success: true });
      const second = (await newLeader(backbone.jsm, "orders", first)).cluster?.leader;
      expect(second, "a leader after the stepdown").not.toBe(first);

      const node = cluster.nodes.find((n) => n.name === second)!;
      await node.kill();
      expect((await newLeader(backbone.jsm, "orders", second)).cluster?.leader, "a leader after the crash").not.toBe(second);
      await node.start();
      const healed = await streamInfoWhen(backbone.jsm, "orders", (info) => peersOf(info) === 2 && info.cluster!.replicas!.every((peer) => peer.current));
      expect(healed.cluster?.replicas?.map((peer) => peer.current), "the restarted node caught up").toEqual([true, true]);
    } finally {
      electionsDone = true;
      servedAgain = await load;
    }

    for (const [what, res] of answers) {
      if (what === "publish" && res.status === 201) continue;
      expectOkOrUnavailable(res, what);
    }
    expect(servedAgain, "poll, stream info and publish served after the elections").toEqual([true, true, true]);
  });
});

describe("/readyz after the whole cluster restarts", () => {
  it("answers 200 only once JetStream answers for every stream", async () => {
    expect(gateway, "the gateway of the tests above").toBeDefined();
    await cluster.restart();
    const deadline = Date.now() + 30_000;
    let notReady = 0;
    for (;;) {
      const res = await api.get("/readyz");
      if (res.status === 200) {
        expect(await streamsNotAnswering(), `/readyz said ready after ${notReady} answers of 503`).toBeUndefined();
        break;
      }
      expectUnavailable(res, "/readyz after a restart");
      notReady++;
      expect(Date.now(), "/readyz never said ready after the restart").toBeLessThan(deadline);
      await sleep(20);
    }
  });
});

/**
 * What JetStream answered when asked, over a new connection, for the info of every stream the
 * gateway keeps; undefined when it gave them all.
 */
async function streamsNotAnswering(): Promise<string | undefined> {
  const nc = await connect({ servers: cluster.url.split(","), name: "readyz-probe" });
  try {
    // The same question /readyz must ask, and only it (no account info first).
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    await Promise.all([...EVENT_STREAMS, ...STATE_STREAMS].map((stream) => jsm.streams.info(stream)));
    return undefined;
  } catch (err) {
    return String(err);
  } finally {
    await nc.close();
  }
}
