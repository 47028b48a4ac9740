/**
 * A client that stops reading an SSE response must not make the gateway buffer what it cannot
 * send (PROTOCOL.md 5.3: "a client too slow for the live rate never makes the server buffer
 * without bound and never loses events"), and once it reads again it gets every event.
 *
 * The gateway runs as a child process (what `npm start` runs) over a test nats-server, so its
 * resident memory (VmRSS) is its own; ~50 MB of events are stored while the client is paused,
 * after the same amount went through it once (see warm-up 2 for why). A test-only preload
 * (support/gc-probe.ts) also reports what the gateway holds after a full GC.
 */
import { get, type IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { connectBackbone } from "../../src/backbone/connection.js";
import { createProducer } from "../../src/typed/producer.js";
import { cleanupsAfterEach } from "../support/cleanups.js";
import { startGatewayProcess } from "../support/gateway-process.js";
import { startTestNats } from "../support/nats.js";
import { SseParser } from "../support/sse-frames.js";
import { until } from "../support/wait.js";

/** A first small batch, read in full before anything is measured. */
const WARMUP_EVENTS = 50;
/** Each ~50 MB: once read as it comes (warm-up), once stored while the reader is paused. */
const FLOOD_EVENTS = 5_000;
const EVENT_BYTES = 10_000;
const PUBLISH_CONCURRENCY = 100;
/**
 * The measure that counts: what the gateway holds after a full GC (heapUsed + external), which
 * a gateway buffering for the paused reader would grow by ~50 MB. Seen: -5 to +1 MB.
 */
const RETAINED_GROWTH_BOUND = 8 * 1024 * 1024;

const cleanups = cleanupsAfterEach();

const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

describe("a paused SSE reader", () => {
  it("neither makes the gateway buffer ~50 MB nor loses any of it", { timeout: 120_000 }, async () => {
    const t0 = Date.now();
    const nats = await startTestNats();
    cleanups.push(() => nats.stop());
    const gateway = await startGatewayProcess(nats.url, {}, { probes: { gc: true }, stopTimeoutMs: 10_000 });
    cleanups.push(() => gateway.stop());
    const backbone = await connectBackbone(nats.url, "slow-reader-test");
    cleanups.push(() => backbone.nc.close());
    const producer = createProducer(backbone.js, orders);

    /** offset → orderId of everything published, to check what arrives. */
    const expected = new Map<number, string>();
    const filler = "x".repeat(EVENT_BYTES);
    async function publishMany(tag: string, count: number): Promise<void> {
      for (let start = 0; start < count; start += PUBLISH_CONCURRENCY) {
        const batch = Array.from({ length: Math.min(PUBLISH_CONCURRENCY, count - start) }, async (_, j) => {
          const orderId = `${tag}-${start + j}`;
          const { offset } = await producer.publish({
            type: "demo.orders.v1.OrderCreated",
            data: { orderId, customerId: `${orderId}-${filler}`, totalCents: 1n, currency: "EUR" },
          });
          expected.set(offset, orderId);
        });
        await Promise.all(batch);
      }
    }

    // The raw reader: node:http, so pausing the response really stops reading the socket.
    const received: { offset: number; orderId: string }[] = [];
    const notices: string[] = [];
    const parser = new SseParser();
    let bytes = 0;
    /** Frames parsed: messages (the retry: line first) and comments. */
    let frames = 0;
    let ended = false;
    const req = get(`${gateway.url}/v1/streams/orders/sse?from=now`, { agent: false });
    cleanups.push(async () => req.destroy());
    const res = await new Promise<IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
    expect(res.statusCode).toBe(200);
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      bytes += chunk.length;
      for (const m of parser.push(chunk)) {
        frames++;
        if (m.kind !== "message" || m.data === undefined) continue;
        if (m.event !== undefined) {
          notices.push(`${m.event}: ${m.data}`);
          continue;
        }
        const envelope = JSON.parse(m.data) as { offset: number; data: { orderId: string } };
        if (m.id !== String(envelope.offset)) notices.push(`id ${m.id} for offset ${envelope.offset}`);
        received.push({ offset: envelope.offset, orderId: envelope.data.orderId });
      }
    });
    res.on("close", () => (ended = true));
    res.on("error", () => (ended = true));
    const state = () => `received ${received.length} events (${MB(bytes)}), ended ${ended}, notices ${JSON.stringify(notices)}`;

    const samples: { at: number; rss: number }[] = [];
    const sample = () => void samples.push({ at: Date.now() - t0, rss: gateway.rssBytes() });
    const settle = async () => {
      const from = samples.length;
      for (let i = 0; i < 5; i++) {
        sample();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return samples.slice(from).map((x) => x.rss);
    };

    // Warm-up 1: the read has started once the response is there; a first small batch is read.
    await until(() => frames > 0, "the first frame of the SSE response (its retry: line)", 10_000);
    await publishMany("warm", WARMUP_EVENTS);
    await until(() => received.length >= WARMUP_EVENTS, `${WARMUP_EVENTS} warm-up events`, 15_000, state);
    const cold = await settle();
    const coldRetained = await gateway.collectGarbage();

    // Warm-up 2: as much as the flood, read as it comes. Moving ~50 MB through the gateway grows
    // its V8 heap and malloc arenas (by 40-100 MB, alike with a reader that keeps up and with a
    // filtered one that receives nothing), and they stay grown: that is the cost of throughput,
    // not of a slow reader. So the paused reader's RSS is measured against the high-water mark
    // of the same volume going to a reader that keeps up. And since RSS also swings with GC
    // timing, what the gateway still holds after a full GC (the memory probe) is compared too:
    // buffering for the paused reader would show there as ~50 MB, whatever the allocators do.
    const sampler = setInterval(sample, 200);
    const throughputFrom = samples.length;
    const throughputStart = Date.now();
    let throughputMs = 0;
    let floodMs = 0;
    let warm: number[] = [];
    let warmRetained = coldRetained;
    let floodFrom = 0;
    try {
      await publishMany("through", FLOOD_EVENTS);
      await until(() => received.length >= expected.size, `${expected.size} events read as they come`, 30_000, state);
      throughputMs = Date.now() - throughputStart;

      // Stop reading, let the gateway settle, then flood the stream.
      res.pause();
      warm = await settle();
      warmRetained = await gateway.collectGarbage();
      floodFrom = samples.length;
      const floodStart = Date.now();
      await publishMany("flood", FLOOD_EVENTS);
      floodMs = Date.now() - floodStart;
      // The gateway may still be pulling what was stored; keep sampling a while.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      clearInterval(sampler);
    }
    sample();
    const rss = (from: number, to = samples.length) => samples.slice(from, to).map((x) => x.rss);
    const throughputPeak = Math.max(...rss(throughputFrom, floodFrom));
    const baseline = Math.max(throughputPeak, ...warm);
    const floodSamples = samples.slice(floodFrom);
    const peak = Math.max(...rss(floodFrom));
    const pausedRetained = await gateway.collectGarbage();
    const receivedWhilePaused = received.length;
    const bytesBeforeResume = bytes;
    const lastOffset = Math.max(...expected.keys());

    // Read again: everything, in order, once.
    const resumeAt = Date.now();
    res.resume();
    await until(() => received.length >= expected.size || ended, `all ${expected.size} events after resuming`, 60_000, state);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const drainMs = Date.now() - resumeAt;
    const after = gateway.rssBytes();
    const drainedRetained = await gateway.collectGarbage();
    const held = (m: { heapUsed: number; external: number }) => m.heapUsed + m.external;
    const retainedGrowth = held(pausedRetained) - held(warmRetained);

    console.log(
      `[slow reader] gateway RSS: cold (after ${WARMUP_EVENTS} events) ${cold.map(MB).join(", ")}; ` +
        `peak while ${FLOOD_EVENTS} more were read as they came (in ${throughputMs} ms) ${MB(throughputPeak)}; ` +
        `paused, settled ${warm.map(MB).join(", ")}; peak while paused ${MB(peak)}: ` +
        `growth ${MB(peak - baseline)} over the warm high-water mark (${MB(peak - warm[warm.length - 1]!)} over the settled RSS, ` +
        `${MB(peak - warmRetained.rss)} over the RSS right after the full GC that preceded the flood, ` +
        `${MB(peak - cold[cold.length - 1]!)} over the cold one); ` +
        `after draining ${MB(after)}\n` +
        `[slow reader] held after a full GC (heapUsed + external): cold ${MB(held(coldRetained))}, warm ${MB(held(warmRetained))}, ` +
        `after the paused flood ${MB(held(pausedRetained))} (growth ${MB(retainedGrowth)}; heap ${MB(pausedRetained.heapUsed - warmRetained.heapUsed)}, ` +
        `external ${MB(pausedRetained.external - warmRetained.external)}), after draining ${MB(held(drainedRetained))}\n` +
        `[slow reader] flood of ${FLOOD_EVENTS} x ~${EVENT_BYTES} B published in ${floodMs} ms while paused; ` +
        `${receivedWhilePaused - WARMUP_EVENTS - FLOOD_EVENTS} of them parsed before resuming; ` +
        `${MB(bytes - bytesBeforeResume)} drained in ${drainMs} ms; total ${Date.now() - t0} ms\n` +
        `[slow reader] RSS while paused (ms since start: MB): ${floodSamples.map((x) => `${x.at}:${(x.rss / 1048576).toFixed(0)}`).join(" ")}`,
    );

    expect(ended, `the gateway ended the SSE response; ${state()}`).toBe(false);
    expect(notices).toEqual([]);
    expect(receivedWhilePaused).toBe(WARMUP_EVENTS + FLOOD_EVENTS);
    expect(received.length).toBe(expected.size);
    expect(received[received.length - 1]!.offset).toBe(lastOffset);
    const disorder = received.findIndex((r, i) => r.offset !== i + 1);
    expect(
      disorder < 0 ? "offsets 1..N in order" : `at index ${disorder}: offsets ${received.slice(Math.max(0, disorder - 2), disorder + 3).map((r) => r.offset).join(",")}`,
    ).toBe("offsets 1..N in order");
    const wrong = received.filter((r) => expected.get(r.offset) !== r.orderId).slice(0, 5);
    expect(wrong).toEqual([]);
    // RSS is only printed: it carries allocator slack and GC timing, which swing it by tens of
    // MB on a loaded machine, as much as the flood a buffering gateway would hold.
    expect(retainedGrowth, `memory held after a full GC grew by ${MB(retainedGrowth)}`).toBeLessThan(RETAINED_GROWTH_BOUND);
  });
});
