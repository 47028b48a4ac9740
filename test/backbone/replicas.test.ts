/**
 * The replicas setting on a real three-node JetStream cluster (PROTOCOL.md section 7): it
 * scales the streams the schema leaves unpinned and all the gateway's state, up and down in
 * place; unset, an existing stream keeps what it has; what JetStream refuses stops the start
 * with JetStream's reason. And webhook registrations kept at three replicas outlive the node
 * that leads their bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/app.js";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { clusterGatewayEnv, startClusterGateway } from "../support/cluster-gateway.js";
import { writeReplicatedSchemas } from "../support/replicated-schemas.js";
import { leaderOf, newLeader, placedAt, STATE_STREAMS, streamInfoWhen } from "../support/stream-info.js";
import { expectOkOrUnavailable } from "../support/backbone-trouble.js";
import { cli } from "../support/cli-process.js";
import type { Client, HttpResponse } from "../support/http.js";
import { sleep } from "../support/wait.js";

/** Left to the replicas setting by the schema. */
const UNPINNED = "orders";
/** Pinned by the schema, at a count neither the default nor any setting below asks for. */
const PINNED = "metrics";
const PIN = 2;

let cluster: TestCluster;
let schemas: Awaited<ReturnType<typeof writeReplicatedSchemas>>;
/** The test's own connection to the cluster. */
let backbone: Backbone;
let running: RunningGateway | undefined;

beforeAll(async () => {
  cluster = await startTestCluster(3);
  schemas = await writeReplicatedSchemas(PIN, [PINNED]);
  backbone = await connectBackbone(cluster.url, "replicas-test");
});
afterAll(async () => {
  await running?.stop();
  await backbone?.nc.close();
  await cluster?.stop();
  await schemas?.remove();
});

/** A gateway on the cluster, stopped after the test (or by the next start). */
async function startGateway(env: NodeJS.ProcessEnv): Promise<Client> {
  await running?.stop();
  running = undefined;
  const started = await startClusterGateway(cluster.url, schemas.path, env);
  running = started.gateway;
  return started.api;
}

/**
 * Every stream in the account and its replicas, each once it is kept by as many servers as
 * `expected` says (or the wait for it is over: then how it is kept).
 */
async function placement(expected: (stream: string) => number): Promise<Record<string, number | string>> {
  const streams: string[] = [];
  for await (const name of backbone.jsm.streams.names()) streams.push(name);
  const placed: Record<string, number | string> = {};
  for (const stream of streams.sort()) {
    const info = await streamInfoWhen(backbone.jsm, stream, placedAt(expected(stream)));
    const replicas = info.config.num_replicas;
    placed[stream] = placedAt(replicas)(info) ? replicas : `${replicas} asked, cluster ${JSON.stringify(info.cluster)}`;
  }
  return placed;
}

/** What placement() should give: the pin for the pinned stream, `others` for every other. */
const expectedPlacement = (others: number) =>
  Object.fromEntries([UNPINNED, PINNED, ...STATE_STREAMS].sort().map((stream) => [stream, stream === PINNED ? PIN : others]));
const pinOr = (others: number) => (stream: string) => (stream === PINNED ? PIN : others);

describe("the replicas setting", () => {
  it("puts unpinned streams and all state at 3, then a start with 1 scales them down in place; the pin holds throughout", async () => {
    let api = await startGateway({ STREAMGATE_REPLICAS: "3" });
    // Every stream there is: a bucket or stream the gateway created but left out would show here.
    expect(await placement(pinOr(3))).toEqual(expectedPlacement(3));
    const created = await api.postJson("/v1/webhooks", { url: "http://127.0.0.1:9/hook", stream: UNPINNED, paused: true });
    expect(created.status, created.text).toBe(201);

    api = await startGateway({ STREAMGATE_REPLICAS: "1" });
    expect(await placement(pinOr(1))).toEqual(expectedPlacement(1));
    const kept = await api.get(`/v1/webhooks/${created.body.id}`);
    expect(kept.status, kept.text).toBe(200);
  });

  it("unset, keeps an existing unpinned stream at the replicas it has, and the state takes the most replicated stream's", async () => {
    // The operator scaled the stream by hand; the state is where the test above left it, at 1.
    await backbone.jsm.streams.update(UNPINNED, { num_replicas: 3 });
    await startGateway({});
    expect(await placement(pinOr(3))).toEqual(expectedPlacement(3));
  });

  it("does not start when JetStream refuses the replicas asked, and says JetStream's reason", async () => {
    await running?.stop();
    running = undefined;
    const serve = await cli(["serve"], clusterGatewayEnv(cluster.url, schemas.path, { STREAMGATE_REPLICAS: "5" }));
    expect(serve.code, serve.stderr).toBe(1);
    expect(serve.stderr).toMatch(/^streamgate: stream "orders": JetStream refused 5 replicas: no suitable peers for placement\./m);
    // A startup error for the operator, not a crash: no stack of internals.
    expect(serve.stderr).not.toMatch(/^\s+at /m);
    expect((await backbone.jsm.streams.info(UNPINNED)).config.num_replicas, "left as it was").toBe(3);
  });
});

describe("webhook registrations at three replicas", () => {
  // In the fault suite (npm run test:faults), not npm test: the webhook API sometimes times out
  // for 20 s and more after its bucket's leader dies (issue 13, still open).
  it.runIf(process.env.FAULT_SUITE !== undefined)("outlive the node leading their bucket: the API answers 200 or 503, never 500, and still lists them after", async () => {
    const api = await startGateway({ STREAMGATE_REPLICAS: "3" });
    const created = await api.postJson("/v1/webhooks", { url: "http://127.0.0.1:9/hook", stream: UNPINNED, paused: true });
    expect(created.status, created.text).toBe(201);
    const id: string = created.body.id;
    const bucket = "KV_streamgate_webhooks";
    await streamInfoWhen(backbone.jsm, bucket, placedAt(3));
    const leader = await leaderOf(backbone.jsm, bucket);
    const node = cluster.nodes.find((n) => n.name === leader);
    expect(node, `the leader ${leader} is a node of the cluster`).toBeDefined();

    const answers: [string, HttpResponse][] = [];
    let elected = false;
    /** Asks until, after the election, the registration is served as before (or 20 s pass). */
    const keepAsking = async (what: string, ask: () => Promise<HttpResponse>, served: (res: HttpResponse) => boolean) => {
      let settleBy = Infinity;
      for (;;) {
        const res = await ask();
        answers.push([what, res]);
        if (elected && settleBy === Infinity) settleBy = Date.now() + 20_000;
        if (elected && (served(res) || Date.now() > settleBy)) return served(res);
        // Paced, not flooding: the machine running this is small.
        await sleep(10);
      }
    };
    const load = Promise.all([
      keepAsking("list", () => api.get("/v1/webhooks"), (res) => res.status === 200 && res.body.webhooks.some((w: { id: string }) => w.id === id)),
      keepAsking("get", () => api.get(`/v1/webhooks/${id}`), (res) => res.status === 200 && res.body.id === id),
    ]);
    let servedAfter: boolean[];
    try {
      await node!.kill();
      expect((await newLeader(backbone.jsm, bucket, leader)).cluster?.leader, "a leader after the crash").not.toBe(leader);
    } finally {
      elected = true;
      servedAfter = await load;
      await node!.start();
    }
    for (const [what, res] of answers) expectOkOrUnavailable(res, what);
    expect(servedAfter, "the registration listed and served after the election").toEqual([true, true]);
  });
});
