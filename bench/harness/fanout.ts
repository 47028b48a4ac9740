/**
 * Live fan-out of one system, measured from outside: subscribers at the live edge of one
 * stream, a publisher at an offered rate, and the server's CPU from /proc.
 *
 * - Latency and CPU per delivery at a fixed offered rate, the same for every system.
 * - Max sustained deliveries/s: an offered rate is sustained when every subscriber had the
 *   step's last event within `graceMs` of the time the schedule planned to publish it (so the
 *   lag did not grow, wherever it would have: in the publisher, the backbone, the server or
 *   the subscribers); the figure is the deliveries of the best sustained step over the time
 *   from its first publish to its last delivery. Rates double from `searchFrom` until one is
 *   not sustained, then the bracket is halved geometrically `refinements` times.
 */
import type { SubscriberTarget } from "../load/clients/types.js";
import type { OfferResult, PublisherArgs } from "../load/publisher.js";
import { LatencyHistogram } from "./histogram.js";
import { startSubscribers, type SubscriberGroup } from "./subscribers.js";
import type { BenchContext, Watched } from "./types.js";

export interface FanoutSystem {
  name: string;
  /** Starts the server side: the process whose CPU counts, how to publish to it, where subscribers go. */
  start(ctx: BenchContext): Promise<StartedSystem>;
}

export interface StartedSystem {
  server: Watched;
  publisher: PublisherArgs;
  target(first: number): SubscriberTarget;
  /** Stops its processes, so that the next system has the machine to itself. */
  stop(): Promise<void>;
}

export interface FanoutSizes {
  subscribers: number;
  /** Load processes the subscribers are spread over. */
  processes: number;
  /** Events/s of the fixed-rate step (latency, CPU), and its length. */
  fixedRate: number;
  fixedSeconds: number;
  /** Events/s the search starts at, the length of each of its steps, and its bounds (maxSteps 0: no search). */
  searchFrom: number;
  /** A step at the phase's first rate before it measures (0: none): connections, JIT. */
  warmUpSeconds: number;
  stepSeconds: number;
  maxSteps: number;
  refinements: number;
  graceMs: number;
}

export interface FanoutResult {
  sustainedDeliveriesPerSecond: number;
  cpuMicrosPerDelivery: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  repeated: number;
}

/** How long a step that fell behind may take to deliver its backlog before the search gives up. */
const DRAIN_MS = 60_000;
/** An await whose deadline has passed still looks once: the events may all be there. */
const MIN_AWAIT_MS = 10;

async function cpuOf(processes: readonly Watched[]): Promise<number> {
  const seconds = await Promise.all(processes.map((process) => process.cpuSeconds()));
  return seconds.reduce((sum, value) => sum + value, 0);
}

export interface StepResult {
  sustained: boolean;
  deliveriesPerSecond: number;
  deliveries: number;
  latency: LatencyHistogram;
  /** Every subscriber has every event so far (after the drain, if it fell behind). */
  caughtUp: boolean;
}

export async function measureFanout(ctx: BenchContext, label: string, system: FanoutSystem, sizes: FanoutSizes): Promise<FanoutResult> {
  const log = (line: string) => ctx.log(`${label} ${system.name}: ${line}`);
  // Two runs on fresh processes: a step the system could not keep up with may leave it slower
  // for a while (readers sent back to catch-up), which must not colour the other figures.
  const fixed = await onFreshSystem(ctx, system, sizes, log, async (step, server) => {
    if (sizes.warmUpSeconds > 0) await step(sizes.fixedRate, sizes.warmUpSeconds);
    const cpuBefore = await server.cpuSeconds();
    const result = await step(sizes.fixedRate, sizes.fixedSeconds);
    return { ...result, cpuMicrosPerDelivery: (((await server.cpuSeconds()) - cpuBefore) * 1e6) / result.deliveries };
  });
  // No search (quick): the fixed-rate step is the only throughput figure.
  const search =
    sizes.maxSteps === 0
      ? { best: fixed.sustained ? fixed.deliveriesPerSecond : 0, lost: 0, repeated: 0 }
      : await onFreshSystem(ctx, system, sizes, log, async (step) => {
          if (sizes.warmUpSeconds > 0) await step(sizes.searchFrom, sizes.warmUpSeconds);
          return searchSustained(step, sizes);
        });
  const lost = fixed.lost + search.lost;
  const repeated = fixed.repeated + search.repeated;
  log(`sustained ${Math.round(search.best)} deliveries/s, ${fixed.cpuMicrosPerDelivery.toFixed(2)} µs CPU/delivery, lost ${lost}, repeated ${repeated}`);
  return {
    sustainedDeliveriesPerSecond: search.best,
    cpuMicrosPerDelivery: fixed.cpuMicrosPerDelivery,
    p50Ms: fixed.latency.percentile(0.5) / 1000,
    p99Ms: fixed.latency.percentile(0.99) / 1000,
    lost,
    repeated,
  };
}

export type Step = (rate: number, seconds: number) => Promise<StepResult>;

/**
 * The best sustained deliveries/s: rates double from `searchFrom` until one is not sustained,
 * then the bracket is halved geometrically `refinements` times. `unsustained` is the lowest
 * rate tried that was not (undefined: every step was).
 */
export async function searchSustained(step: Step, sizes: FanoutSizes): Promise<{ best: number; unsustained?: number }> {
  let best = 0;
  let low: number | undefined;
  let high: number | undefined;
  let refined = 0;
  for (let steps = 0, rate = sizes.searchFrom; steps < sizes.maxSteps; steps++) {
    const result = await step(rate, sizes.stepSeconds);
    if (!result.caughtUp) break;
    if (result.sustained) {
      best = Math.max(best, result.deliveriesPerSecond);
      low = rate;
    } else high = rate;
    if (high === undefined) rate *= 2;
    else if (low === undefined) rate /= 2;
    else if (refined++ >= sizes.refinements) break;
    else rate = Math.sqrt(low * high);
  }
  return { best, ...(high !== undefined && { unsustained: high }) };
}

/** Starts the system, its publisher and subscribers, runs `body`, stops them all, and accounts for every event. */
export async function onFreshSystem<T>(
  ctx: BenchContext,
  system: FanoutSystem,
  sizes: FanoutSizes,
  log: (line: string) => void,
  body: (step: Step, server: Watched) => Promise<T>,
): Promise<T & { lost: number; repeated: number }> {
  const started = await system.start(ctx);
  const publisher = await ctx.load<{ published: number }>("load/publisher.ts", started.publisher);
  const { next } = (await publisher.nextMessage()) as { next: number };
  const subscribers = await startSubscribers(ctx, { target: started.target(next), count: sizes.subscribers, first: next }, sizes.processes);
  log(`${sizes.subscribers} subscribers ready`);
  const result = await body((rate, seconds) => offerStep(publisher, subscribers, sizes, rate, seconds, log), started.server);
  const { lost, repeated, dropped } = await subscribers.stop();
  publisher.send({ op: "stop" });
  await publisher.report;
  await started.stop();
  if (dropped.length > 0) log(`connections dropped: ${dropped.join("; ")}`);
  return { ...result, lost, repeated };
}

async function offerStep(
  publisher: { ask<Reply>(message: unknown): Promise<Reply> },
  subscribers: SubscriberGroup,
  sizes: FanoutSizes,
  rate: number,
  seconds: number,
  log: (line: string) => void,
): Promise<StepResult> {
  const loadCpuBefore = await cpuOf(subscribers.processes);
  const offer = await publisher.ask<OfferResult>({ op: "offer", rate, seconds });
  const events = offer.last - offer.first + 1;
  const deliveries = events * sizes.subscribers;
  const deadline = offer.startedAt + ((events - 1) / rate) * 1000 + sizes.graceMs;
  const done = await subscribers.await(offer.last, Math.max(deadline - Date.now(), MIN_AWAIT_MS));
  const sustained = done.complete && done.completedAt <= deadline;
  // The subscribers' CPU, to tell a server that fell behind from a load generator that did.
  const loadCores = ((await cpuOf(subscribers.processes)) - loadCpuBefore) / ((Date.now() - offer.startedAt) / 1000);
  let caughtUp = done.complete;
  let completedAt = done.completedAt;
  if (!done.complete) {
    const drained = await subscribers.await(offer.last, DRAIN_MS);
    done.latency.merge(drained.latency.counts);
    caughtUp = drained.complete;
    completedAt = drained.completedAt;
  }
  // n events scheduled 1/rate apart take n/rate seconds of the schedule, not (n - 1)/rate.
  const deliveriesPerSecond = caughtUp ? deliveries / ((completedAt - offer.startedAt) / 1000 + 1 / rate) : 0;
  log(
    `offered ${Math.round(rate * sizes.subscribers)}/s: ${sustained ? "sustained" : "fell behind"}` +
      (caughtUp ? `, ${Math.round(deliveriesPerSecond)} deliveries/s${done.complete ? "" : " (with the drain)"}` : `, ${done.behind} events missing after the drain`) +
      `, subscribers used ${loadCores.toFixed(2)} cores`,
  );
  return { sustained, deliveriesPerSecond, deliveries, latency: done.latency, caughtUp };
}
