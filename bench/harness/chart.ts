/**
 * The chart of BENCHMARKS.md, as SVG: one bar per target, how far along it streamgate is
 * (1 = just met, whatever the metric's direction), with the target line at 1.
 */
import type { Aggregated } from "./aggregate.js";

const ROW = 26;
const LABEL_WIDTH = 430;
const BAR_WIDTH = 360;
const VALUE_WIDTH = 170;
/** Bars are cut at twice the target: beyond it, how much more hardly matters on a chart. */
const MAX_SCORE = 2;

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function chartSvg(rows: readonly Aggregated[], title: string): string {
  const bars = rows.flatMap((row) => row.targets.map((target) => ({ label: `${row.scenario}: ${row.metric}`, target })));
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const height = 40 + bars.length * ROW + 30;
  const x = (score: number) => LABEL_WIDTH + (Math.min(Math.max(score, 0), MAX_SCORE) / MAX_SCORE) * BAR_WIDTH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  bars.forEach(({ label, target }, i) => {
    const y = 40 + i * ROW;
    const score = Number.isFinite(target.score) ? target.score : 0;
    const achieved = target.kind === "ratio" ? `${target.achieved.toFixed(2)}×` : target.achieved.toFixed(1);
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${escape(label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${(x(score) - LABEL_WIDTH).toFixed(1)}" height="${ROW - 8}" fill="${target.met ? "#2e7d32" : "#c62828"}"/>`,
      `<text x="${LABEL_WIDTH + BAR_WIDTH + 8}" y="${y + 15}">${escape(`${achieved} (target ${target.label})`)}</text>`,
    );
  });
  const line = x(1);
  parts.push(
    `<line x1="${line}" y1="34" x2="${line}" y2="${40 + bars.length * ROW}" stroke="black" stroke-dasharray="4 3"/>`,
    `<text x="${line}" y="${height - 12}" text-anchor="middle">target</text>`,
    `<text x="${LABEL_WIDTH}" y="${height - 12}">0</text>`,
    `<text x="${LABEL_WIDTH + BAR_WIDTH}" y="${height - 12}" text-anchor="end">2× the target</text>`,
    `</svg>`,
  );
  return `${parts.join("\n")}\n`;
}
