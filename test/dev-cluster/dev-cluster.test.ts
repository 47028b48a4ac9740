/**
 * The dev cluster of docs/deployment.md: three NATS nodes, two gateways, haproxy with
 * deploy/haproxy.cfg in front. Through the load balancer a publish and every kind of read work; a
 * killed gateway leaves the rotation within seconds while requests through it keep succeeding;
 * close() leaves no process behind.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevCluster, type DevCluster } from "../../src/dev-cluster/dev-cluster.js";
import { HAPROXY_TEMPLATE } from "../../src/dev-cluster/load-balancer-config.js";
import { client } from "../support/http.js";
import { SseConnection } from "../support/sse-frames.js";
import { WsClient, wsUrl } from "../support/ws-client.js";
import { T, tag } from "../support/events.js";
import { acceptsConnections } from "../support/ports.js";
import { isGone } from "../support/process.js";
import { eventually } from "../support/wait.js";

let dir: string;
let cluster: DevCluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-dev-cluster-"));
  cluster = await startDevCluster({ dir, nodes: 3, gateways: 2, port: 0 });
});
afterAll(async () => {
  await cluster?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the dev cluster", () => {
  it("runs haproxy with the committed template, its two lines filled in for the gateways", async () => {
    const template = (await readFile(HAPROXY_TEMPLATE, "utf8")).split("\n");
    const running = (await readFile(cluster.loadBalancerConfig, "utf8")).split("\n");
    const filled = template.filter((line) => !running.includes(line));
    expect(filled.map((line) => line.trim())).toEqual(["{{BIND}}", "{{SERVERS}}"]);
    const added = running.filter((line) => !template.includes(line)).map((line) => line.trim());
    expect(added).toEqual([
      `bind ${new URL(cluster.url).host}`,
      ...cluster.gateways.flatMap((gateway) => [
        `server ${gateway.name} ${new URL(gateway.url).host} check`,
        `server ${gateway.name}-unchecked ${new URL(gateway.url).host} backup`,
      ]),
    ]);
    expect((await cluster.gatewaysInRotation()).sort()).toEqual(["gw1", "gw2"]);
  });

  it("serves a publish, and reads over SSE, WebSocket and long polling, through the load balancer", async () => {
    const api = client(cluster.url);
    const before = await api.get("/v1/streams/orders");
    expect(before.status, before.text).toBe(200);
    const next = before.body.last_offset + 1;
    const sse = await SseConnection.open(`${cluster.url}/v1/streams/orders/sse?from=${next}`);
    const ws = await WsClient.connect(wsUrl(cluster.url, `/v1/streams/orders/ws?from=${next}`), "json");
    try {
      expect(sse.status).toBe(200);
      const ids = [tag("lb"), tag("lb")];
      // Round robin spreads these requests over both gateways, whichever holds each read.
      for (const id of ids) {
        const res = await api.postJson("/v1/streams/orders/events", { type: T.created, id, data: { orderId: id } });
        expect(res.status, res.text).toBe(201);
      }
      const offsets = [next, next + 1];
      const events = await sse.waitForEvents(2, 20_000);
      expect(events.map((event) => [event.id, event.offset])).toEqual([[ids[0], offsets[0]], [ids[1], offsets[1]]]);
      expect((await ws.events("orders", 2, 20_000)).map((event) => event.offset)).toEqual(offsets);
      const poll = await api.get(`/v1/streams/orders/poll?from=${next}&wait=5`);
      expect(poll.status, poll.text).toBe(200);
      expect(poll.body.events.map((event: { id: string }) => event.id)).toEqual(ids);
    } finally {
      await sse.close();
      await ws.close();
    }
  });

  it("takes a killed gateway out of the rotation within seconds while every request through it succeeds, and back once it runs", async () => {
    const api = client(cluster.url);
    const [victim] = cluster.gateways;
    const statuses: number[] = [];
    await victim!.kill();
    const killedAt = Date.now();
    let outAfterMs: number | undefined;
    while (outAfterMs === undefined) {
      statuses.push((await api.get("/v1/streams")).status);
      if (!(await cluster.gatewaysInRotation()).includes(victim!.name)) outAfterMs = Date.now() - killedAt;
      expect(Date.now() - killedAt, "the killed gateway is still in the rotation").toBeLessThan(10_000);
    }
    for (let i = 0; i < 10; i++) statuses.push((await api.get("/v1/streams")).status);
    expect(statuses.every((status) => status === 200), `answers through the load balancer: ${statuses.join(",")}`).toBe(true);
    // inter 500 ms, fall 2: a second or so, a few on a loaded machine.
    expect(outAfterMs).toBeLessThan(5_000);

    await victim!.start();
    await eventually(() => cluster.gatewaysInRotation(), (names) => names.includes(victim!.name), "the restarted gateway back in the rotation");
  });

  it("leaves no process behind after close()", async () => {
    const pids = [cluster.loadBalancerPid, ...cluster.gateways.map((gateway) => gateway.pid), ...cluster.nodes.map((node) => node.pid!)];
    expect(pids.filter(isGone), `gone before close() of ${pids.join(",")}`).toEqual([]);
    await cluster.close();
    expect(pids.filter((pid) => !isGone(pid)), "still running after close()").toEqual([]);
    const { hostname, port } = new URL(cluster.url);
    expect(await acceptsConnections(hostname, Number(port)), "the load balancer's port after close()").toBe(false);
  });
});
