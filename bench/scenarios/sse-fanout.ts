/** SSE fan-out to 1,000 subscribers (quick: 100): the gateway and the node:http SSE ceiling. */
import { measureFanout, type FanoutResult } from "../harness/fanout.js";
import { fanoutSizes } from "../harness/fanout-sizes.js";
import { measurements } from "../harness/results.js";
import { ceiling, streamgate } from "../harness/systems.js";
import type { Scenario } from "../harness/types.js";

export const sseFanout: Scenario = {
  name: "sse-fanout",
  async run(ctx) {
    const sizes = fanoutSizes(ctx.quick, ctx.quick ? 5_000 : 20_000);
    const results: Record<string, FanoutResult> = {};
    for (const system of [streamgate("sse"), ceiling("sse")]) results[system.name] = await measureFanout(ctx, "sse-fanout", system, sizes);
    const at = `at ${sizes.fixedRate * sizes.subscribers / 1000}k deliveries/s`;
    return measurements("sse-fanout", results, [
      { metric: "deliveries/s (max sustained)", higherIsBetter: true, value: (r) => r.sustainedDeliveriesPerSecond, target: { baseline: "ceiling", ratio: 0.8 } },
      { metric: `server CPU µs/delivery ${at}`, higherIsBetter: false, value: (r) => r.cpuMicrosPerDelivery },
      { metric: `p99 ms ${at}`, higherIsBetter: false, value: (r) => r.p99Ms },
    ]);
  },
};
