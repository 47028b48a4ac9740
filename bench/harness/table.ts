/** The markdown table of BENCHMARKS.md. */
import type { Aggregated } from "./aggregate.js";
import { formatNumber } from "./format.js";

const SUBJECT = "streamgate";

export function markdownTable(rows: readonly Aggregated[]): string {
  const lines = [
    "| scenario | metric | streamgate | baselines | ratio | target | met? | lost |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const row of rows) {
    const baselines = Object.entries(row.values)
      .filter(([system]) => system !== SUBJECT)
      .map(([system, value]) => `${system} ${formatNumber(value)}`)
      .join(", ");
    const ratios = Object.entries(row.ratios)
      .map(([system, ratio]) => `${ratio.toFixed(2)} (${system})`)
      .join(", ");
    const targets = row.targets.map((target) => target.label).join(" / ");
    const met = row.targets.map((target) => (target.met ? "yes" : "**no**")).join(" / ");
    const subject = row.values[SUBJECT];
    lines.push(
      `| ${row.scenario} | ${row.metric} | ${subject === undefined ? "" : formatNumber(subject)} | ${baselines} | ${ratios} | ${targets} | ${met} | ${row.lost + row.repeated} |`,
    );
  }
  return lines.join("\n");
}
