/**
 * Fan-out past saturation, measured from outside: the same subscribers and publisher as
 * fanout.ts; a doubling search finds the first offered rate the system does not sustain, then
 * it is offered `factor` times that rate. Overload must not cost throughput (deliveries/s
 * until every subscriber has the last event, against the best sustained step of the same run)
 * or grow memory past what the gateway's budget allows (the server's peak RSS over its RSS
 * when the overload began, sampled through the offer and the drain).
 */
import { onFreshSystem, searchSustained, type FanoutSizes, type FanoutSystem } from "./fanout.js";
import type { BenchContext, Watched } from "./types.js";

export interface OverloadSizes extends FanoutSizes {
  /** The overload offered, as a multiple of the first rate the search found not sustained. */
  factor: number;
  overloadSeconds: number;
}

export interface OverloadResult {
  /** Events/s offered in the overload step. */
  overloadRate: number;
  sustainedDeliveriesPerSecond: number;
  overloadedDeliveriesPerSecond: number;
  peakRssGrowthMiB: number;
  lost: number;
  repeated: number;
}

const RSS_SAMPLE_MS = 100;

/**
 * `rate`: offer this overload (events/s) instead of searching for one, so a second system is
 * held to exactly the first one's load; its sustained figure is then not measured (NaN).
 */
export async function measureOverload(ctx: BenchContext, label: string, system: FanoutSystem, sizes: OverloadSizes, rate?: number): Promise<OverloadResult> {
  const log = (line: string) => ctx.log(`${label} ${system.name}: ${line}`);
  const result = await onFreshSystem(ctx, system, sizes, log, async (step, server) => {
    if (sizes.warmUpSeconds > 0) await step(sizes.searchFrom, sizes.warmUpSeconds);
    let sustained = Number.NaN;
    let overloadRate = rate;
    if (overloadRate === undefined) {
      const search = await searchSustained(step, sizes);
      sustained = search.best;
      // Every step sustained (a quick run's short search): the rate the search would have tried next.
      overloadRate = (search.unsustained ?? sizes.searchFrom * 2 ** sizes.maxSteps) * sizes.factor;
    }
    const peak = watchPeakRss(server);
    const before = await server.rssBytes();
    const overloaded = await step(overloadRate, sizes.overloadSeconds);
    const peakRss = await peak.stop();
    if (!overloaded.caughtUp) throw new Error(`${label}: subscribers did not catch up after the overload`);
    return {
      overloadRate,
      sustainedDeliveriesPerSecond: sustained,
      overloadedDeliveriesPerSecond: overloaded.deliveriesPerSecond,
      peakRssGrowthMiB: Math.max(0, peakRss - before) / 2 ** 20,
    };
  });
  log(
    `sustained ${Math.round(result.sustainedDeliveriesPerSecond)}/s, overloaded ${Math.round(result.overloadedDeliveriesPerSecond)}/s, ` +
      `RSS +${result.peakRssGrowthMiB.toFixed(0)} MiB at the peak, lost ${result.lost}, repeated ${result.repeated}`,
  );
  return result;
}

/** Samples the process's RSS until stopped; resolves with the highest sample. */
function watchPeakRss(process: Watched): { stop(): Promise<number> } {
  let peak = 0;
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      peak = Math.max(peak, await process.rssBytes());
      await new Promise((resolve) => setTimeout(resolve, RSS_SAMPLE_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await sampling;
      return Math.max(peak, await process.rssBytes());
    },
  };
}
