/**
 * Issue 12, "webhooks": W webhooks (maxInFlight 1) on `orders`, E events: W × E signed deliveries
 * from the gateway to a receiver in its own process, which checks each (webhook, offset) for
 * repeats and range. Baseline, first, while no gateway runs: a plain undici POST loop with the
 * same concurrency (W requests in flight) hitting the same receiver.
 */
import type { Measurement, Scenario } from "../harness/types.js";
import type { PostLoopArgs } from "../load/post-loop.js";
import type { RawPublishArgs } from "../load/raw-publish.js";
import type { LoopResult } from "../load/timed-loop.js";
import type { ReceiverStats } from "../load/webhook-receiver.js";
import { connectBackbone } from "../../src/backbone/connection.js";
import { createWebhook } from "../../test/support/gateway-process.js";
import { eventually, sleep } from "../../test/support/wait.js";
import { STREAM } from "../load/order-event.js";
import { go, goAndReport, loadModule, ready } from "./load-process.js";

const RAW = "raw-undici";
/** Registrations in flight at once. */
const REGISTER_AT_ONCE = 10;
/** Delivery is given up on when the receiver sees no new delivery for this long. */
const STALL_MS = 30_000;
/** After the last delivery, how long repeats still have to show up. */
const REPEAT_GRACE_MS = 1_000;

export const webhooks: Scenario = {
  name: "webhooks",
  async run(ctx) {
    const [hooks, events] = ctx.quick ? [20, 25] : [500, 200];
    const deliveries = hooks * events;
    const receiver = await ctx.server(loadModule("webhook-receiver"), { webhooks: hooks, events });
    const stats = () => receiver.ask<ReceiverStats>("stats");

    const baselinePosts = Math.min(deliveries, 200_000);
    const postArgs: PostLoopArgs = { url: receiver.url, concurrency: hooks, count: baselinePosts, warmupMs: ctx.quick ? 0 : 1_000 };
    const raw = await goAndReport(await ctx.load<LoopResult>(loadModule("post-loop"), postArgs));
    const rawRate = raw.measuredUnits / raw.seconds;
    const rawLost = baselinePosts - (await stats()).baseline;
    ctx.log(`${RAW}: ${raw.units} POSTs, ${hooks} in flight, ${Math.round(rawRate)}/s; ${rawLost} not counted by the receiver`);

    const nats = await ctx.nats();
    const gateway = await ctx.gateway(nats.url, { STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    const ids: string[] = [];
    for (let start = 0; start < hooks; start += REGISTER_AT_ONCE) {
      const batch = Array.from({ length: Math.min(REGISTER_AT_ONCE, hooks - start) }, (_, i) =>
        createWebhook(gateway.url, { url: `${receiver.url}/h/${start + i}`, stream: STREAM, from: "now", maxInFlight: 1, timeoutMs: 30_000 }),
      );
      for (const hook of await Promise.all(batch)) ids.push(hook.id);
    }
    // Publishing before every worker pulls would time the workers' start, not delivery.
    const backbone = await connectBackbone(nats.url, "bench-webhooks");
    try {
      const pulling = async () => {
        let n = 0;
        for (const id of ids) if ((await backbone.jsm.consumers.info(STREAM, id)).num_waiting > 0) n++;
        return n;
      };
      await eventually(pulling, (n) => n === hooks, `all ${hooks} webhook workers pulling`, 120_000);
    } finally {
      await backbone.close();
    }
    ctx.log(`${hooks} webhooks registered, every worker pulling`);

    const cpuBefore = { gateway: await gateway.cpuSeconds(), nats: await nats.cpuSeconds() };
    const publishArgs: RawPublishArgs = { natsUrl: nats.url, inFlight: 100, count: events, idPrefix: "hook-" };
    const publisher = await ctx.load<LoopResult>(loadModule("raw-publish"), publishArgs);
    await ready(publisher);
    const startedAt = Date.now();
    const published = await go(publisher);
    if (published.units !== events) throw new Error(`published ${published.units} of ${events} events`);
    let seen = await stats();
    for (let progressAt = Date.now(), last = seen.distinct; seen.distinct < deliveries && Date.now() - progressAt < STALL_MS; ) {
      await sleep(250);
      seen = await stats();
      if (seen.distinct > last) [progressAt, last] = [Date.now(), seen.distinct];
    }
    const seconds = ((seen.distinct === deliveries ? seen.lastDistinctAt : Date.now()) - startedAt) / 1000;
    const cpu = { gateway: (await gateway.cpuSeconds()) - cpuBefore.gateway, nats: (await nats.cpuSeconds()) - cpuBefore.nats };
    await sleep(REPEAT_GRACE_MS);
    seen = await stats();
    const gwRate = seen.distinct / seconds;
    const gwLost = deliveries - seen.distinct;
    ctx.log(
      `streamgate: ${seen.distinct} of ${deliveries} deliveries in ${seconds.toFixed(1)} s = ${Math.round(gwRate)}/s; ` +
        `${seen.duplicates} repeated, ${seen.outOfRange} out of range; ` +
        `CPU µs/delivery: gateway ${Math.round((cpu.gateway * 1e6) / seen.distinct)}, nats-server ${Math.round((cpu.nats * 1e6) / seen.distinct)}`,
    );
    return [
      {
        scenario: "webhooks",
        metric: "deliveries/s",
        higherIsBetter: true,
        values: { streamgate: gwRate, [RAW]: rawRate },
        lost: gwLost + rawLost,
        repeated: seen.duplicates + seen.outOfRange,
        target: { baseline: RAW, ratio: 0.7 },
      },
    ] satisfies Measurement[];
  },
};
