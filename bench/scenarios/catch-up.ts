/**
 * Issue 12, "catch-up": `orders` holds N events of EVENT_BYTES; one reader at a time replays
 * offsets 1..N, each in its own process, over WebSocket, SSE and chained long polls through the
 * gateway, and, as the baseline, a raw JetStream ordered consumer. Every reader checks that each
 * offset arrived once and in order. Filling the stream is not measured.
 */
import type { Measurement, Scenario } from "../harness/types.js";
import type { RawPublishArgs } from "../load/raw-publish.js";
import type { ReplayArgs, ReplayReport } from "../load/replay.js";
import type { LoopResult } from "../load/timed-loop.js";
import { goAndReport, loadModule } from "./load-process.js";
import { provisionOrders, storedOrders } from "./orders-stream.js";

const RAW = "raw-consumer";
const PROTOCOLS = { ws: "WebSocket", sse: "SSE", poll: "long poll" } as const;
/** As many fill publishes in flight as keep nats-server busy. */
const FILL_IN_FLIGHT = 1_000;

export const catchUp: Scenario = {
  name: "catch-up",
  async run(ctx) {
    const events = ctx.quick ? 20_000 : 300_000;
    const nats = await ctx.nats();
    await provisionOrders(nats.url);
    const fillArgs: RawPublishArgs = { natsUrl: nats.url, inFlight: FILL_IN_FLIGHT, count: events, idPrefix: "fill-" };
    const fill = await goAndReport(await ctx.load<LoopResult>(loadModule("raw-publish"), fillArgs));
    const stored = await storedOrders(nats.url);
    if (fill.units !== events || stored !== events) throw new Error(`the fill stored ${stored} of ${events} events (${fill.units} acknowledged)`);
    ctx.log(`filled orders with ${events} events in ${fill.seconds.toFixed(1)} s`);

    const read = async (system: string, module: string, url: string) => {
      const args: ReplayArgs = { url, events };
      const report = await goAndReport(await ctx.load<ReplayReport>(loadModule(module), args));
      const rate = report.received / report.seconds;
      ctx.log(
        `${system}: ${report.received} of ${events} in ${report.seconds.toFixed(1)} s = ${Math.round(rate)} events/s, ` +
          `${report.lost} lost, ${report.repeated} repeated${report.stopped ? `; stopped: ${report.stopped}` : ""}`,
      );
      return { rate, lost: report.lost, repeated: report.repeated };
    };
    const raw = await read(RAW, "replay-raw", nats.url);
    const gateway = await ctx.gateway(nats.url);
    const measurements: Measurement[] = [];
    for (const [protocol, label] of Object.entries(PROTOCOLS)) {
      const gw = await read(`streamgate ${label}`, `replay-${protocol}`, gateway.url);
      measurements.push({
        scenario: "catch-up",
        metric: `${label} events/s`,
        higherIsBetter: true,
        values: { streamgate: gw.rate, [RAW]: raw.rate },
        lost: gw.lost + raw.lost,
        repeated: gw.repeated + raw.repeated,
        target: { baseline: RAW, ratio: 0.8 },
      });
    }
    return measurements;
  },
};
