/**
 * Webhook fan-out bench: WEBHOOKS webhooks (maxInFlight 1) on the orders stream, EVENTS events,
 * WEBHOOKS x EVENTS deliveries from one gateway child process to one local receiver process.
 * Then, as an in-run baseline, the same receiver hit by a plain undici loop with the same
 * concurrency (WEBHOOKS requests in flight): raw HTTP POST throughput on this machine.
 *
 *   npx tsx bench/webhooks-fanout.ts                       # 500 webhooks x 1,000 events
 *   WEBHOOKS=100 EVENTS=500 npx tsx bench/webhooks-fanout.ts
 *
 * Environment: WEBHOOKS (500), EVENTS (1000), MAX_IN_FLIGHT (1), TIMEOUT_S (900: give up and
 * report what was delivered), BASELINE_REQUESTS (min(deliveries, 200000)), GATEWAY_NODE_ARGS
 * (node flags for the gateway process only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Agent, request } from "undici";
import { startNatsServer } from "../src/backbone/nats-server.js";
import { createWebhook, startGatewayProcess } from "../test/support/gateway-process.js";
import { connectPublisher, publishOrders } from "../test/support/publish-orders.js";
import { sleep } from "../test/support/wait.js";

const WEBHOOKS = Number(process.env.WEBHOOKS ?? 500);
const EVENTS = Number(process.env.EVENTS ?? 1000);
const MAX_IN_FLIGHT = Number(process.env.MAX_IN_FLIGHT ?? 1);
const TIMEOUT_S = Number(process.env.TIMEOUT_S ?? 900);
const DELIVERIES = WEBHOOKS * EVENTS;
const BASELINE_REQUESTS = Number(process.env.BASELINE_REQUESTS ?? Math.min(DELIVERIES, 200_000));
const CONCURRENCY = WEBHOOKS * MAX_IN_FLIGHT;

interface Stats {
  requests: number;
  distinct: number;
  duplicates: number;
  outOfRange: number;
  baseline: number;
  maxOpen: number;
  firstAt: number;
  lastAt: number;
  lastDistinctAt: number;
}

const log = (line: string) => console.log(`[bench] ${line}`);
const CLK_TCK = 100;

/** User + system CPU seconds of a process (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function rssMiB(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

async function startReceiverProcess() {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/webhooks-receiver.ts", String(WEBHOOKS), String(EVENTS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on("line", (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`the receiver exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    pid: child.pid!,
    url,
    stats: async (): Promise<Stats> => (await (await fetch(url + "/stats")).json()) as Stats,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main() {
  log(`${WEBHOOKS} webhooks x ${EVENTS} events = ${fmt(DELIVERIES)} deliveries, maxInFlight ${MAX_IN_FLIGHT}, ${CONCURRENCY} in flight at most`);
  const storeDir = await mkdtemp(join(tmpdir(), "streamgate-bench-nats-"));
  const nats = await startNatsServer({ storeDir });
  const receiver = await startReceiverProcess();
  // GATEWAY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the gateway.
  const gw = await startGatewayProcess(nats.url, {}, { nodeArgs: process.env.GATEWAY_NODE_ARGS?.split(" ").filter(Boolean) ?? [] }).catch(
    async (err: unknown) => {
      await receiver.stop();
      await nats.stop();
      await rm(storeDir, { recursive: true, force: true });
      throw err;
    },
  );
  const publisher = await connectPublisher(nats.url);
  let gatewayDied: string | undefined;
  void gw.exited.then((exit) => {
    if (stopping) return;
    gatewayDied = `the gateway process exited on its own (code ${exit.code}, signal ${exit.signal})`;
    log(`${gatewayDied}; the last of its output:\n${gw.output().slice(-6000)}`);
  });
  let stopping = false;
  let exitCode = 0;
  try {
    // Register the webhooks, a few at a time.
    const t0 = Date.now();
    const ids: string[] = [];
    for (let start = 0; start < WEBHOOKS; start += 10) {
      const batch = [];
      for (let i = start; i < Math.min(WEBHOOKS, start + 10); i++) {
        batch.push(
          createWebhook(gw.url, {
            url: `${receiver.url}/h/${i}`,
            stream: "orders",
            from: "now",
            maxInFlight: MAX_IN_FLIGHT,
            timeoutMs: 30_000,
          }),
        );
      }
      for (const w of await Promise.all(batch)) ids.push(w.id);
    }
    // Wait until every worker is pulling (a waiting pull request on its consumer).
    for (;;) {
      let waiting = 0;
      for (const id of ids) if ((await publisher.jsm.consumers.info("orders", id)).num_waiting > 0) waiting++;
      if (waiting === ids.length) break;
      await sleep(250);
    }
    log(`registered ${WEBHOOKS} webhooks, all workers pulling, in ${Date.now() - t0} ms; gateway RSS ${rssMiB(gw.pid).toFixed(0)} MiB`);
    // What the idle workers cost (pull requests renewed every few seconds, heartbeats).
    const idle0 = { gw: cpuSeconds(gw.pid), nats: cpuSeconds(nats.pid) };
    await sleep(10_000);
    log(
      `idle, 10 s: gateway CPU ${((cpuSeconds(gw.pid) - idle0.gw) * 10).toFixed(1)}%, nats-server CPU ${((cpuSeconds(nats.pid) - idle0.nats) * 10).toFixed(1)}%` +
        ` (of one core)`,
    );

    const cpu0 = { gw: cpuSeconds(gw.pid), nats: cpuSeconds(nats.pid), receiver: cpuSeconds(receiver.pid) };
    const started = Date.now();
    const offsets = await publishOrders(publisher, EVENTS, { prefix: "bench" });
    if (offsets[0] !== 1 || offsets.at(-1) !== EVENTS) throw new Error(`unexpected offsets ${offsets[0]}..${offsets.at(-1)}`);
    const publishedMs = Date.now() - started;
    log(`published ${EVENTS} events in ${publishedMs} ms`);

    const deadline = started + TIMEOUT_S * 1000;
    let stats = await receiver.stats();
    let lastReport = Date.now();
    let peakRss = 0;
    while (stats.distinct < DELIVERIES && Date.now() < deadline && !gatewayDied) {
      await sleep(250);
      stats = await receiver.stats();
      peakRss = Math.max(peakRss, rssMiB(gw.pid));
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        const s = (Date.now() - started) / 1000;
        log(`  ${s.toFixed(0)} s: ${fmt(stats.distinct)} delivered (${fmt(stats.distinct / s)}/s), gateway RSS ${rssMiB(gw.pid).toFixed(0)} MiB`);
      }
    }
    const complete = stats.distinct === DELIVERIES;
    const endAt = complete ? stats.lastDistinctAt : Date.now();
    const seconds = (endAt - started) / 1000;
    await sleep(1_000);
    stats = await receiver.stats();
    const cpu = {
      gw: cpuSeconds(gw.pid) - cpu0.gw,
      nats: cpuSeconds(nats.pid) - cpu0.nats,
      receiver: cpuSeconds(receiver.pid) - cpu0.receiver,
    };
    const rate = stats.distinct / seconds;
    log(
      `gateway: ${fmt(stats.distinct)} of ${fmt(DELIVERIES)} deliveries ${complete ? "" : "(INCOMPLETE, timed out) "}in ${seconds.toFixed(1)} s` +
        ` = ${fmt(rate)} deliveries/s${gatewayDied ? ` (STOPPED: ${gatewayDied})` : ""}; requests ${fmt(stats.requests)}, duplicates ${stats.duplicates}, out of range ${stats.outOfRange},` +
        ` most open at the receiver ${stats.maxOpen}; CPU s: gateway ${cpu.gw.toFixed(1)}, nats-server ${cpu.nats.toFixed(1)},` +
        ` receiver ${cpu.receiver.toFixed(1)}; gateway peak RSS ${peakRss.toFixed(0)} MiB`,
    );
    if (!complete || stats.duplicates > 0) exitCode = 1;

    // Baseline: gateway and backbone stopped, then a plain undici loop at the same concurrency.
    stopping = true;
    await gw.stop(30_000);
    await publisher.nc.close();
    await nats.stop();
    const body = JSON.stringify({
      stream: "orders",
      offset: 1,
      id: "bench-1",
      type: "demo.orders.v1.OrderShipped",
      key: "bench-1",
      time: new Date().toISOString(),
      data: { orderId: "bench-1", carrier: "ups", trackingNumber: "1Z1" },
    });
    const agent = new Agent({ keepAliveTimeout: 10_000 });
    let sent = 0;
    const bcpu0 = cpuSeconds(receiver.pid);
    const bStarted = Date.now();
    const loop = async () => {
      while (sent < BASELINE_REQUESTS) {
        sent++;
        const res = await request(`${receiver.url}/base`, {
          method: "POST",
          dispatcher: agent,
          body,
          headers: {
            "content-type": "application/json",
            "user-agent": "streamgate-webhooks/1",
            "webhook-id": "bench-1",
            "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
            "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
            "streamgate-stream": "orders",
            "streamgate-offset": "1",
            "streamgate-attempt": "1",
          },
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`baseline got ${res.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, loop));
    const bSeconds = (Date.now() - bStarted) / 1000;
    const bStats = await receiver.stats();
    const bRate = bStats.baseline / bSeconds;
    await agent.close();
    log(
      `baseline: plain undici, ${CONCURRENCY} concurrent, ${fmt(bStats.baseline)} POSTs in ${bSeconds.toFixed(1)} s = ${fmt(bRate)} requests/s` +
        ` (receiver CPU ${(cpuSeconds(receiver.pid) - bcpu0).toFixed(1)} s)`,
    );
    log(`RESULT ${WEBHOOKS}x${EVENTS}: gateway ${fmt(rate)} deliveries/s, baseline ${fmt(bRate)} POST/s, ratio ${(rate / bRate).toFixed(3)} (${((rate / bRate) * 100).toFixed(1)}% of raw HTTP)`);
  } finally {
    stopping = true;
    await gw.stop(5_000).catch(() => undefined);
    await publisher.nc.close().catch(() => undefined);
    await nats.stop().catch(() => undefined);
    await receiver.stop();
    await rm(storeDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

await main();
