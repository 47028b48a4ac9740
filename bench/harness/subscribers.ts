/** The runner's side of load/subscribers.ts: subscribers spread over several processes, driven as one. */
import type { AwaitResult, SubscribersArgs, SubscribersReport } from "../load/subscribers.js";
import { LatencyHistogram } from "./histogram.js";
import type { BenchContext, LoadProcess } from "./types.js";

export interface GroupAwait {
  complete: boolean;
  /** Wall clock ms of the last delivery to the last subscriber (when complete). */
  completedAt: number;
  behind: number;
  latency: LatencyHistogram;
}

export interface SubscriberGroup {
  readonly processes: LoadProcess<SubscribersReport>[];
  /** Waits until every subscriber has the event numbered `last`, for at most timeoutMs. */
  await(last: number, timeoutMs: number): Promise<GroupAwait>;
  /** Closes every subscriber; lost and repeated over all of them. */
  stop(): Promise<{ lost: number; repeated: number; dropped: string[] }>;
}

/** `args.count` subscribers in `processes` load processes; resolves once every one is connected. */
export async function startSubscribers(ctx: BenchContext, args: SubscribersArgs, processes: number): Promise<SubscriberGroup> {
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(args.count / processes) + (i < args.count % processes ? 1 : 0)).filter(
    (share) => share > 0,
  );
  const loads = await Promise.all(shares.map((count) => ctx.load<SubscribersReport>("load/subscribers.ts", { ...args, count } satisfies SubscribersArgs)));
  await Promise.all(loads.map((load) => load.nextMessage()));
  return {
    processes: loads,
    async await(last, timeoutMs) {
      const results = await Promise.all(loads.map((load) => load.ask<AwaitResult>({ op: "await", last, timeoutMs })));
      const latency = new LatencyHistogram();
      for (const result of results) latency.merge(result.latency);
      return {
        complete: results.every((result) => result.completedAt !== null),
        completedAt: Math.max(...results.map((result) => result.completedAt ?? Number.NaN)),
        behind: results.reduce((sum, result) => sum + result.behind, 0),
        latency,
      };
    },
    async stop() {
      for (const load of loads) load.send({ op: "stop" });
      const reports = await Promise.all(loads.map((load) => load.report));
      return {
        lost: reports.reduce((sum, report) => sum + report.lost, 0),
        repeated: reports.reduce((sum, report) => sum + report.repeated, 0),
        dropped: reports.flatMap((report) => report.dropped),
      };
    },
  };
}
