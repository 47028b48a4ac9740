/**
 * Load module, the webhooks baseline: a plain undici POST loop, `concurrency` requests in
 * flight, each the body and headers of a webhook delivery of the bench event. Anything but 200
 * ends the run. Args: PostLoopArgs; "ready", then "go"; report: LoopResult (units: POSTs).
 */
import { Agent } from "undici";
import { loadMain } from "../harness/load-main.js";
import { readyThenGo } from "./go.js";
import { EVENT_JSON, EVENT_TYPE, STREAM } from "./order-event.js";
import { runLoop, type LoopResult } from "./timed-loop.js";

export interface PostLoopArgs {
  url: string;
  concurrency: number;
  count: number;
  warmupMs?: number;
}

const { data } = EVENT_JSON;
const body = JSON.stringify({ stream: STREAM, offset: 1, id: "bench-1", type: EVENT_TYPE, key: data.orderId, time: new Date().toISOString(), data });
const headers = {
  "content-type": "application/json",
  "user-agent": "streamgate-webhooks/1",
  "webhook-id": "bench-1",
  "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  "streamgate-stream": STREAM,
  "streamgate-offset": "1",
  "streamgate-attempt": "1",
};

loadMain<PostLoopArgs, LoopResult>(async (args, parent) => {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  await readyThenGo(parent);
  const result = await runLoop({ workers: args.concurrency, count: args.count, warmupMs: args.warmupMs }, async () => {
    const res = await agent.request({
      origin: args.url,
      path: "/baseline",
      method: "POST",
      body,
      headers: { ...headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000)) },
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`the receiver answered ${res.statusCode}`);
    return 1;
  });
  await agent.close();
  return result;
});
