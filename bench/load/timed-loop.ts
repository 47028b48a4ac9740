/**
 * A closed loop: `workers` concurrent callers, each awaiting one operation after another, for
 * `count` operations or for `durationMs` after a warm-up. The rate counts completions after the
 * warm-up: up to the end of the duration (what completes later is the drain, with fewer callers),
 * or, by count, up to the last completion.
 */

export interface LoopPlan {
  workers: number;
  /** Stop after this many operations (the warm-up included). */
  count?: number;
  /** Stop starting operations this long after the warm-up. */
  durationMs?: number;
  /** Completions before this are not measured (default 0). */
  warmupMs?: number;
}

export interface LoopResult {
  operations: number;
  /** What the operations accomplished in all (e.g. events acknowledged), warm-up and drain included. */
  units: number;
  /** Units completed within the measured window, and its length. */
  measuredUnits: number;
  seconds: number;
}

/** Runs the loop; `operation(i)` answers how many units the i-th operation accomplished. */
export async function runLoop(plan: LoopPlan, operation: (index: number) => Promise<number>): Promise<LoopResult> {
  if (plan.count === undefined && plan.durationMs === undefined) throw new Error("a loop needs a count or a duration");
  const started = performance.now();
  const measureFrom = started + (plan.warmupMs ?? 0);
  const stopAt = plan.durationMs === undefined ? Infinity : measureFrom + plan.durationMs;
  const count = plan.count ?? Infinity;
  let begun = 0;
  let units = 0;
  let measuredUnits = 0;
  let lastCompletion = started;
  const worker = async () => {
    while (begun < count && performance.now() < stopAt) {
      begun++;
      const done = await operation(begun - 1);
      lastCompletion = performance.now();
      units += done;
      if (lastCompletion >= measureFrom && lastCompletion <= stopAt) measuredUnits += done;
    }
  };
  await Promise.all(Array.from({ length: plan.workers }, worker));
  const end = Math.min(stopAt, lastCompletion);
  return { operations: begun, units, measuredUnits, seconds: (end - Math.min(measureFrom, end)) / 1000 };
}
