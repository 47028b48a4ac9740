/**
 * Live fan-out: C clients at the live edge of one stream, E events published.
 *
 *   gateway   C SSE clients over real HTTP, fed by the shared live feed (one JetStream
 *             consumer per stream, each event decoded and encoded once)
 *   baseline  C JetStream ordered consumers in the same process, each decoding and encoding
 *             every event for itself: one backbone consumer per client, no HTTP at all
 *
 * Both run in one process against one nats-server, one after the other, and the result is the
 * ratio of their delivery rates, so the machine's speed mostly cancels out.
 *
 *   npx tsx bench/fanout.ts            CLIENTS=200 EVENTS=5000 by default
 */
import { setMaxListeners } from "node:events";
import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { connectBackbone } from "../src/backbone/connection.js";
import { startNatsServer } from "../src/backbone/nats-server.js";
import { meanEventBytes, readStoredEvents } from "../src/backbone/reader.js";
import { readStreamState } from "../src/backbone/stream-state.js";
import { filterSubject } from "../src/backbone/subjects.js";
import { loadConfig } from "../src/config/config.js";
import { EncodedEvent } from "../src/fanout/encoded-event.js";
import { runGateway } from "../src/app.js";
import { createProducer } from "../src/typed/producer.js";
import { orders, type OrdersEventInit } from "../generated/streams/index.js";

const CLIENTS = Number(process.env.CLIENTS ?? 200);
const EVENTS = Number(process.env.EVENTS ?? 5000);

const storeDir = await mkdtemp(join(tmpdir(), "streamgate-bench-"));
const nats = await startNatsServer({ storeDir });
const gateway = await runGateway(loadConfig({ NATS_URL: nats.url, PORT: "0", STREAMGATE_LOG_LEVEL: "warn" }));
const base = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
const backbone = await connectBackbone(nats.url, "bench");
const producer = createProducer(backbone.js, orders);

function event(i: number): OrdersEventInit {
  return {
    type: "demo.orders.v1.OrderCreated",
    data: {
      orderId: `ord-${i}`,
      customerId: `cus-${i % 97}`,
      items: [{ sku: `sku-${i % 13}`, quantity: 1 + (i % 5), unitPriceCents: 1999n }],
      totalCents: BigInt(1999 * (1 + (i % 5))),
      currency: "EUR",
      createdAt: { seconds: 1_763_800_000n + BigInt(i), nanos: i },
    },
  };
}

async function publishAll(): Promise<{ first: number; last: number }> {
  let first = 0;
  let last = 0;
  for (let i = 0; i < EVENTS; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) => producer.publish(event(i + j))),
    );
    first ||= batch[0]!.offset;
    last = batch.at(-1)!.offset;
  }
  return { first, last };
}

/** An SSE client that counts events and resolves when it has seen offset `until`. */
function sseClient(start: number, until: () => number): { ready: Promise<void>; done: Promise<number> } {
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const done = new Promise<number>((resolve, reject) => {
    const req = request(`${base}/v1/streams/orders/sse?from=${start}`, (res) => {
      resolveReady();
      let count = 0;
      let tail = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const text = tail + chunk;
        const lines = text.split("\n");
        tail = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith("id: ")) continue;
          count++;
          if (Number(line.slice(4)) === until()) {
            req.destroy();
            resolve(count);
          }
        }
      });
    });
    req.on("error", (err) => (err.message === "socket hang up" ? undefined : reject(err)));
    req.end();
  });
  return { ready, done };
}

/** Times from the first publish (after `run` has its clients in place) to the last delivery. */
async function measure(name: string, run: (startClock: () => void) => Promise<void>): Promise<number> {
  let started = 0;
  await run(() => (started = performance.now()));
  const seconds = (performance.now() - started) / 1000;
  const rate = (CLIENTS * EVENTS) / seconds;
  console.log(`${name.padEnd(9)} ${CLIENTS} clients x ${EVENTS} events in ${seconds.toFixed(2)} s = ${Math.round(rate)} deliveries/s`);
  return rate;
}

// Warm up both paths (JIT, connections) on a small batch.
await publishAll();

const gatewayRate = await measure("gateway", async (startClock) => {
  const opened = await readStreamState(backbone.jsm, "orders");
  const start = opened.lastOffset + 1;
  let last = Number.POSITIVE_INFINITY;
  const clients = Array.from({ length: CLIENTS }, () => sseClient(start, () => last));
  await Promise.all(clients.map((c) => c.ready));
  startClock();
  last = (await publishAll()).last;
  const counts = await Promise.all(clients.map((c) => c.done));
  if (counts.some((c) => c !== EVENTS)) throw new Error(`gateway clients saw ${counts.find((c) => c !== EVENTS)} events`);
});

const baselineRate = await measure("baseline", async (startClock) => {
  const opened = await readStreamState(backbone.jsm, "orders");
  const start = opened.lastOffset + 1;
  const stop = new AbortController();
  setMaxListeners(CLIENTS + 10, stop.signal);
  let last = Number.POSITIVE_INFINITY;
  const readers = Array.from({ length: CLIENTS }, async () => {
    let count = 0;
    for await (const stored of readStoredEvents(backbone.js, {
      stream: "orders",
      startOffset: start,
      filterSubject: filterSubject("orders", {}),
      meanEventBytes: meanEventBytes(opened),
      signal: stop.signal,
    })) {
      // What a gateway without a shared feed does per client: decode and encode every event.
      void new EncodedEvent(stored, gateway.session.schemas).json;
      count++;
      if (stored.offset === last) break;
    }
    return count;
  });
  // Let every ordered consumer be created before publishing.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  startClock();
  last = (await publishAll()).last;
  const counts = await Promise.all(readers);
  stop.abort();
  if (counts.some((c) => c !== EVENTS)) throw new Error(`baseline readers saw ${counts.find((c) => c !== EVENTS)} events`);
});

console.log(`ratio     gateway / baseline = ${(gatewayRate / baselineRate).toFixed(2)}`);
await backbone.nc.close();
await gateway.stop();
await nats.stop();
await rm(storeDir, { recursive: true, force: true });
