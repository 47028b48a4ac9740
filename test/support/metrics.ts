/** Reading GET /metrics (the Prometheus text format) in tests. */
import { send } from "./http.js";

/**
 * The value of one series, e.g. `streamgate_open_connections{protocol="poll"}`. Throws when the
 * exposition has no such series: a missing series is a failure, not a 0.
 */
export function seriesValue(exposition: string, series: string): number {
  const line = exposition.split("\n").find((l) => l.startsWith(series + " "));
  if (line === undefined) throw new Error(`no series ${series} in /metrics:\n${exposition}`);
  const value = line.slice(series.length + 1).trim();
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value)) throw new Error(`series ${series} has no number: ${JSON.stringify(line)}`);
  return Number(value);
}

/** GET /metrics, which must answer 200 in the text format. */
export async function scrapeMetrics(baseUrl: string): Promise<string> {
  const res = await send(baseUrl, { path: "/metrics" });
  if (res.status !== 200 || !res.headers.get("content-type")?.startsWith("text/plain")) {
    throw new Error(`GET /metrics -> ${res.status} ${res.headers.get("content-type")}: ${res.text.slice(0, 300)}`);
  }
  return res.text;
}
