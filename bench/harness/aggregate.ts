/** Medians over repetitions: of each value, and of each ratio taken within one repetition. */
import type { Measurement, Target } from "./types.js";

export interface TargetResult {
  /** A ratio to a baseline, or streamgate's own value. */
  kind: "ratio" | "absolute";
  /** "≥ 0.85× ceiling", "≤ 8" */
  label: string;
  /** The median ratio within repetitions (streamgate / baseline), or streamgate's median value. */
  achieved: number;
  /** How far along the target is: 1 means just met, above 1 better (for any direction). */
  score: number;
  met: boolean;
}

export interface Aggregated {
  scenario: string;
  metric: string;
  higherIsBetter: boolean;
  values: Record<string, number>;
  /** By baseline: the median over repetitions of streamgate / baseline within each. */
  ratios: Record<string, number>;
  targets: TargetResult[];
  lost: number;
  repeated: number;
  /** Every repetition's values, as measured. */
  repetitions: Record<string, number>[];
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const SUBJECT = "streamgate";

export function aggregate(measurements: readonly Measurement[]): Aggregated[] {
  const groups = new Map<string, Measurement[]>();
  for (const measurement of measurements) {
    const key = `${measurement.scenario}\u0000${measurement.metric}`;
    groups.set(key, [...(groups.get(key) ?? []), measurement]);
  }
  return [...groups.values()].map((reps) => {
    const first = reps[0]!;
    const systems = [...new Set(reps.flatMap((rep) => Object.keys(rep.values)))];
    const values = Object.fromEntries(systems.map((system) => [system, median(reps.map((rep) => rep.values[system] ?? Number.NaN))]));
    const ratios = Object.fromEntries(systems.filter((system) => system !== SUBJECT).map((system) => [system, withinRepetitions(reps, system)]));
    const targets = [first.target ?? []].flat().map((target) => targetResult(target, first.higherIsBetter, reps, values[SUBJECT] ?? Number.NaN));
    return {
      scenario: first.scenario,
      metric: first.metric,
      higherIsBetter: first.higherIsBetter,
      values,
      ratios,
      targets,
      lost: reps.reduce((sum, rep) => sum + rep.lost, 0),
      repeated: reps.reduce((sum, rep) => sum + (rep.repeated ?? 0), 0),
      repetitions: reps.map((rep) => rep.values),
    };
  });
}

function withinRepetitions(reps: readonly Measurement[], baseline: string): number {
  return median(reps.map((rep) => (rep.values[SUBJECT] ?? Number.NaN) / (rep.values[baseline] ?? Number.NaN)));
}

function targetResult(target: Target, higherIsBetter: boolean, reps: readonly Measurement[], subjectMedian: number): TargetResult {
  const sign = higherIsBetter ? "≥" : "≤";
  const [kind, label, goal, achieved] =
    "baseline" in target
      ? ["ratio" as const, `${sign} ${target.ratio}× ${target.baseline}`, target.ratio, withinRepetitions(reps, target.baseline)]
      : ["absolute" as const, `${sign} ${target.absolute}`, target.absolute, subjectMedian];
  const score = higherIsBetter ? achieved / goal : goal / achieved;
  return { kind, label, achieved, score, met: score >= 1 };
}
