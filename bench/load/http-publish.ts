/**
 * Load module: publishing through the gateway's HTTP API over `connections` keep-alive
 * connections, one request in flight on each: the bench event alone to POST .../events
 * (batchSize 1), or batchSize of them to POST .../events:batch. Anything but 201 ends the run.
 * Args: HttpPublishArgs; "ready", then "go"; report: LoopResult (units: events acknowledged).
 */
import { Pool } from "undici";
import { loadMain } from "../harness/load-main.js";
import { readyThenGo } from "./go.js";
import { EVENT_JSON, STREAM } from "./order-event.js";
import { runLoop, type LoopPlan, type LoopResult } from "./timed-loop.js";

export interface HttpPublishArgs extends Omit<LoopPlan, "workers"> {
  url: string;
  connections: number;
  batchSize: number;
}

loadMain<HttpPublishArgs, LoopResult>(async (args, parent) => {
  const pool = new Pool(args.url, { connections: args.connections, pipelining: 1 });
  const single = args.batchSize === 1;
  const path = `/v1/streams/${STREAM}/events${single ? "" : ":batch"}`;
  const body = JSON.stringify(single ? EVENT_JSON : { events: Array.from({ length: args.batchSize }, () => EVENT_JSON) });
  const publishOnce = async (): Promise<number> => {
    const res = await pool.request({ method: "POST", path, body, headers: { "content-type": "application/json" } });
    const answer = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`POST ${path} answered ${res.statusCode}: ${answer.slice(0, 500)}`);
    if (single) return 1;
    const { results } = JSON.parse(answer) as { results: unknown[] };
    if (results.length !== args.batchSize) throw new Error(`POST ${path} stored ${results.length} of ${args.batchSize} events`);
    return results.length;
  };
  await readyThenGo(parent);
  const result = await runLoop({ ...args, workers: args.connections }, publishOnce);
  await pool.close();
  return result;
});
