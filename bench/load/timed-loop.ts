/**
 * A closed loop: `workers` concurrent callers, each awaiting one operation after another, for
 * `count` operations or for `durationMs` after a warm-up. The rate is taken from the end of the
 * warm-up to the last completion, so the JIT's first second and the drain do not blur it.
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
  /** What the operations accomplished in all (e.g. events acknowledged), warm-up included. */
  units: number;
  /** Units completed after the warm-up, and the seconds they took. */
  measuredUnits: number;
  seconds: number;
}

/** Runs the loop; `operation(i)` answers how many units the i-th operation accomplished. */
export async function runLoop(plan: LoopPlan, operation: (index: number) => Promise<number>): Promise<LoopResult> {
  if (plan.count === undefined && plan.durationMs === undefined) throw new Error("a loop needs a count or a duration");
  const warmupMs = plan.warmupMs ?? 0;
  const started = performance.now();
  const measureFrom = started + warmupMs;
  const stopAt = plan.durationMs === undefined ? Infinity : measureFrom + plan.durationMs;
  const count = plan.count ?? Infinity;
  let begun = 0;
  let units = 0;
  let unitsBeforeMeasuring = 0;
  let lastCompletion = started;
  const worker = async () => {
    while (begun < count && performance.now() < stopAt) {
      const done = await operation(begun++);
      lastCompletion = performance.now();
      units += done;
      if (lastCompletion < measureFrom) unitsBeforeMeasuring += done;
    }
  };
  await Promise.all(Array.from({ length: plan.workers }, worker));
  const from = Math.min(measureFrom, lastCompletion);
  return { operations: begun, units, measuredUnits: units - unitsBeforeMeasuring, seconds: (lastCompletion - from) / 1000 };
}
