/** Numbers as the report shows them: three significant digits, thousands as k. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return value.toPrecision(3);
}
