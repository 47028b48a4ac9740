/** Measurements out of per-system results: one row per metric, every system's value side by side. */
import type { Measurement, Target } from "./types.js";

export interface Accounted {
  lost: number;
  repeated: number;
}

export function measurements<R extends Accounted>(
  scenario: string,
  results: Record<string, R>,
  rows: Array<{ metric: string; higherIsBetter: boolean; value: (result: R) => number; target?: Target | Target[] }>,
): Measurement[] {
  const all = Object.values(results);
  const lost = all.reduce((sum, result) => sum + result.lost, 0);
  const repeated = all.reduce((sum, result) => sum + result.repeated, 0);
  return rows.map(({ metric, higherIsBetter, value, target }) => ({
    scenario,
    metric,
    higherIsBetter,
    values: Object.fromEntries(Object.entries(results).map(([system, result]) => [system, value(result)])),
    lost,
    repeated,
    ...(target ? { target } : {}),
  }));
}
