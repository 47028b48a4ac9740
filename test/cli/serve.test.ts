import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { connectBackbone } from "../../src/backbone/connection.js";
import { createProducer } from "../../src/typed/producer.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { isGone, waitUntilGone } from "../support/process.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ServingGateway extends GatewayProcess {
  natsPid: number;
}

/** What the test harness sets for a gateway child, put back to what this process has: `npm start` as a user runs it. */
const AS_NPM_START: NodeJS.ProcessEnv = Object.fromEntries(
  ["HOST", "STREAMGATE_LOG_LEVEL", "STREAMGATE_WEBHOOK_ALLOWED_NETWORKS"].map((name) => [name, process.env[name]]),
);

/** What `npm start` runs, with NATS_URL unset so the gateway embeds its own nats-server. */
async function serve(dataDir: string): Promise<ServingGateway> {
  const gw = await startGatewayProcess(undefined, AS_NPM_START, { dataDir, readyTimeoutMs: 20_000 });
  cleanups.push(async () => {
    if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill("SIGKILL");
    await gw.exited;
  });
  const pid = /embedded nats-server \(pid (\d+)\)/.exec(gw.output())?.[1];
  if (!pid) throw new Error(`no embedded nats-server pid in the gateway's output:\n${gw.output()}`);
  return { ...gw, natsPid: Number(pid) };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-serve-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("streamgate serve with NATS_URL unset", () => {
  it("embeds nats-server, provisions the example streams, and stops it all on SIGTERM", async () => {
    const gw = await serve(await tempDir());
    const { streams } = (await (await fetch(gw.url + "/v1/streams")).json()) as {
      streams: { name: string; types: string[]; first_offset: number; last_offset: number }[];
    };
    expect(streams.map((s) => s.name).sort()).toEqual(["metrics", "orders"]);
    for (const s of streams) {
      expect(s.types.length).toBeGreaterThan(0);
      expect(typeof s.first_offset).toBe("number");
      expect(typeof s.last_offset).toBe("number");
    }
    expect(isGone(gw.natsPid)).toBe(false);

    gw.child.kill("SIGTERM");
    expect((await gw.exited).code).toBe(0);
    expect(await waitUntilGone(gw.natsPid, 5_000)).toBe(true);
  });

  it("leaves no nats-server behind when the gateway is killed with SIGKILL", async () => {
    const gw = await serve(await tempDir());
    gw.child.kill("SIGKILL");
    await gw.exited;
    expect(await waitUntilGone(gw.natsPid, 5_000)).toBe(true);
  });

  it("keeps events and the epoch across a restart on the same data dir", async () => {
    const dataDir = await tempDir();
    const first = await serve(dataDir);
    const natsUrl = /at (nats:\/\/[\d.:]+)/.exec(first.output())?.[1];
    if (!natsUrl) throw new Error(`no nats url in the gateway's output:\n${first.output()}`);
    const backbone = await connectBackbone(natsUrl);
    const producer = createProducer(backbone.js, orders);
    await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: "kept-1" } });
    await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: "kept-2" } });
    await backbone.nc.close();
    const before = await (await fetch(first.url + "/v1/streams/orders")).json();
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);

    const second = await serve(dataDir);
    const after = await (await fetch(second.url + "/v1/streams/orders")).json();
    expect(after).toMatchObject({ first_offset: 1, last_offset: 2, events: 2, epoch: before.epoch });
  });
});
