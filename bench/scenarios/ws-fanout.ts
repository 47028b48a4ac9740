/** WebSocket fan-out to 1,000 subscribers (quick: 100): the gateway, the ws ceiling, nats-server's own WebSocket. */
import { measureFanout, type FanoutResult } from "../harness/fanout.js";
import { fanoutSizes } from "../harness/fanout-sizes.js";
import { measurements } from "../harness/results.js";
import { ceiling, natsWs, streamgate } from "../harness/systems.js";
import type { Scenario } from "../harness/types.js";

export const wsFanout: Scenario = {
  name: "ws-fanout",
  async run(ctx) {
    const sizes = fanoutSizes(ctx.quick, ctx.quick ? 5_000 : 20_000);
    const results: Record<string, FanoutResult> = {};
    for (const system of [streamgate("ws"), ceiling("ws"), natsWs]) results[system.name] = await measureFanout(ctx, "ws-fanout", system, sizes);
    const at = `at ${sizes.fixedRate * sizes.subscribers / 1000}k deliveries/s`;
    return measurements("ws-fanout", results, [
      { metric: "deliveries/s (max sustained)", higherIsBetter: true, value: (r) => r.sustainedDeliveriesPerSecond, target: { baseline: "ceiling", ratio: 0.85 } },
      {
        metric: `server CPU µs/delivery ${at}`,
        higherIsBetter: false,
        value: (r) => r.cpuMicrosPerDelivery,
        target: [{ baseline: "ceiling", ratio: 1.3 }, { baseline: "nats-ws", ratio: 1.0 }],
      },
      { metric: `p50 ms ${at}`, higherIsBetter: false, value: (r) => r.p50Ms, target: { baseline: "ceiling", ratio: 1.3 } },
      { metric: `p99 ms ${at}`, higherIsBetter: false, value: (r) => r.p99Ms, target: { baseline: "ceiling", ratio: 1.3 } },
    ]);
  },
};
