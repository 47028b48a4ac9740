/**
 * WebSocket fan-out past saturation (1,000 subscribers; quick: 100): the gateway as shipped,
 * against itself with the process-wide unsent budget lifted, so what the budget buys shows.
 * Both are offered the same overload: twice the first rate the shipped gateway did not sustain.
 * Rows: deliveries/s under it, against the gateway's own best sustained step of the same run,
 * and the peak RSS growth during the overload.
 */
import { fanoutSizes } from "../harness/fanout-sizes.js";
import { measureOverload, type OverloadResult, type OverloadSizes } from "../harness/overload.js";
import { measurements } from "../harness/results.js";
import { streamgate } from "../harness/systems.js";
import type { Scenario } from "../harness/types.js";

/** Far above what 1,000 connections can hold at their 1 MiB high water: no budget at all. */
const NO_BUDGET = { name: "no budget", env: { STREAMGATE_LIMIT_UNSENT_BYTES_TOTAL: String(64 * 2 ** 30) } };

/**
 * What the design lets overload hold: the default process-wide budget
 * (STREAMGATE_LIMIT_UNSENT_BYTES_TOTAL, 128 MiB), plus each connection's socket high water
 * (16 KiB), which a connection may always fill.
 */
function memoryBoundMiB(subscribers: number): number {
  return 128 + (subscribers * 16) / 1024;
}

export const wsOverload: Scenario = {
  name: "ws-overload",
  async run(ctx) {
    const fanout = fanoutSizes(ctx.quick, 20_000);
    const sizes: OverloadSizes = ctx.quick
      ? { ...fanout, maxSteps: 1, factor: 2, overloadSeconds: 2 }
      : { ...fanout, searchFrom: fanout.fixedRate * 4, refinements: 0, factor: 2, overloadSeconds: 5 };
    const shipped = await measureOverload(ctx, "ws-overload", streamgate("ws"), sizes);
    const unbudgeted = await measureOverload(ctx, "ws-overload", streamgate("ws", NO_BUDGET), sizes, shipped.overloadRate);
    const results: Record<string, OverloadResult> = { streamgate: shipped, [NO_BUDGET.name]: unbudgeted };
    // The overloaded gateway against its own best sustained step (that step's events are accounted in its result).
    const throughput = {
      streamgate: { ...shipped, deliveriesPerSecond: shipped.overloadedDeliveriesPerSecond },
      sustained: { lost: 0, repeated: 0, deliveriesPerSecond: shipped.sustainedDeliveriesPerSecond },
      [NO_BUDGET.name]: { ...unbudgeted, deliveriesPerSecond: unbudgeted.overloadedDeliveriesPerSecond },
    };
    return [
      ...measurements("ws-overload", throughput, [
        {
          metric: `deliveries/s at ${sizes.factor}× past saturation`,
          higherIsBetter: true,
          value: (r) => r.deliveriesPerSecond,
          target: { baseline: "sustained", ratio: 0.9 },
        },
      ]),
      ...measurements("ws-overload", results, [
        {
          metric: `peak RSS growth MiB at ${sizes.factor}× past saturation`,
          higherIsBetter: false,
          value: (r) => r.peakRssGrowthMiB,
          target: { absolute: memoryBoundMiB(sizes.subscribers) },
        },
      ]),
    ];
  },
};
