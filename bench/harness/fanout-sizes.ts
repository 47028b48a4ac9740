import type { FanoutSizes } from "./fanout.js";

/** Fan-out sizes, full and quick: `fixedDeliveries` per second at the fixed-rate step. */
export function fanoutSizes(quick: boolean, fixedDeliveries: number): FanoutSizes {
  const subscribers = quick ? 100 : 1000;
  const fixedRate = fixedDeliveries / subscribers;
  return quick
    ? { subscribers, processes: 2, fixedRate, fixedSeconds: 1.5, searchFrom: fixedRate, warmUpSeconds: 0, stepSeconds: 1, maxSteps: 0, refinements: 0, graceMs: 500 }
    : { subscribers, processes: 2, fixedRate, fixedSeconds: 5, searchFrom: fixedRate / 4, warmUpSeconds: 1, stepSeconds: 4, maxSteps: 10, refinements: 3, graceMs: 500 };
}
