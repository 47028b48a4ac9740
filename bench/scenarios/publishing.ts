/**
 * What the publish scenarios share: the gateway's HTTP publish, one event or a batch per request,
 * against raw js.publish with RAW_IN_FLIGHT in flight from one process, each on its own fresh
 * nats-server, for the same time. Afterwards each stream must hold every event acknowledged.
 */
import type { BenchContext, Measurement, Scenario, Watched } from "../harness/types.js";
import type { HttpPublishArgs } from "../load/http-publish.js";
import type { RawPublishArgs } from "../load/raw-publish.js";
import type { LoopResult } from "../load/timed-loop.js";
import { goAndReport, loadModule } from "./load-process.js";
import { provisionOrders, storedOrders } from "./orders-stream.js";

export const RAW_IN_FLIGHT = 64;
const RAW = "raw-js-publish";
/** The default limit (1,000 per second per credential) would be what is measured. */

export interface PublishScenario {
  name: string;
  /** Events per request: 1 posts to .../events, more to .../events:batch. */
  batchSize: number;
  connections: number;
  /** streamgate / raw, from the table. */
  targetRatio: number;
}

interface Run {
  result: LoopResult;
  stored: number;
  cpuSeconds: number;
}

export function publishScenario(scenario: PublishScenario): Scenario {
  return {
    name: scenario.name,
    async run(ctx) {
      // A cold gateway takes about a second over its first batches: quick runs warm up as long.
      const plan = ctx.quick ? { durationMs: 1_500, warmupMs: 1_000 } : { durationMs: 10_000, warmupMs: 1_000 };

      const rawNats = await ctx.nats();
      await provisionOrders(rawNats.url);
      const rawArgs: RawPublishArgs = { natsUrl: rawNats.url, inFlight: RAW_IN_FLIGHT, ...plan };
      const raw = await measure(ctx, [rawNats], RAW, "raw-publish", rawArgs, rawNats.url);
      await rawNats.stop();

      const nats = await ctx.nats();
      const gateway = await ctx.gateway(nats.url);
      const load: HttpPublishArgs = { url: gateway.url, connections: scenario.connections, batchSize: scenario.batchSize, ...plan };
      const gw = await measure(ctx, [gateway, nats], "streamgate", "http-publish", load, nats.url);

      const lost = [raw, gw].reduce((sum, run) => sum + Math.max(0, run.result.units - run.stored), 0);
      const rate = (run: Run) => run.result.measuredUnits / run.result.seconds;
      const cpu = (run: Run) => (run.cpuSeconds * 1e6) / run.result.units;
      return [
        { scenario: scenario.name, metric: "events/s", higherIsBetter: true, values: { streamgate: rate(gw), [RAW]: rate(raw) }, lost, target: { baseline: RAW, ratio: scenario.targetRatio } },
        { scenario: scenario.name, metric: "server cpu µs/event", higherIsBetter: false, values: { streamgate: cpu(gw), [RAW]: cpu(raw) }, lost },
      ] satisfies Measurement[];
    },
  };
}

/** Runs one publisher to its report; `servers` are the processes whose CPU the events cost. */
async function measure(ctx: BenchContext, servers: Watched[], system: string, module: string, args: object, natsUrl: string): Promise<Run> {
  const load = await ctx.load<LoopResult>(loadModule(module), args);
  const cpuBefore = await totalCpu(servers);
  const result = await goAndReport(load);
  const cpuSeconds = (await totalCpu(servers)) - cpuBefore;
  const stored = await storedOrders(natsUrl);
  ctx.log(
    `${system}: ${result.units} events acknowledged, ${stored} stored; ${Math.round(result.measuredUnits / result.seconds)} events/s over ${result.seconds.toFixed(1)} s`,
  );
  return { result, stored, cpuSeconds };
}

async function totalCpu(processes: Watched[]): Promise<number> {
  let sum = 0;
  for (const p of processes) sum += await p.cpuSeconds();
  return sum;
}
