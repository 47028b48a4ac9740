/**
 * The webhooks scenario's receiver, a server process of its own so neither the gateway nor the
 * baseline client shares its CPU: answers every POST 200 at once and counts deliveries per
 * webhook and offset. POST /h/<index> is webhook <index>; any other POST counts as a baseline
 * request. GET /stats answers ReceiverStats. Args: { webhooks, events } (offsets 1..events);
 * its report, once listening, is { url }.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadArgs, reportToRunner } from "./runner-ipc.js";

export interface ReceiverStats {
  /** Webhook deliveries: all, distinct (webhook, offset) pairs, repeats, and unknown webhooks or offsets. */
  requests: number;
  distinct: number;
  duplicates: number;
  outOfRange: number;
  /** Baseline POSTs. */
  baseline: number;
  /** Date.now() of the last distinct delivery. */
  lastDistinctAt: number;
}

const { webhooks, events } = loadArgs<{ webhooks: number; events: number }>();
const seen = new Uint8Array(webhooks * events);
const stats: ReceiverStats = { requests: 0, distinct: 0, duplicates: 0, outOfRange: 0, baseline: 0, lastDistinctAt: 0 };
const HOOK_PATH = /^\/h\/(\d+)$/;

function count(url: string | undefined, offsetHeader: string | string[] | undefined): void {
  const match = HOOK_PATH.exec(url ?? "");
  if (!match) {
    stats.baseline++;
    return;
  }
  stats.requests++;
  const hook = Number(match[1]);
  const offset = Number(offsetHeader);
  if (hook >= webhooks || !(Number.isInteger(offset) && offset >= 1 && offset <= events)) {
    stats.outOfRange++;
    return;
  }
  const i = hook * events + offset - 1;
  if (seen[i] === 1) {
    stats.duplicates++;
    return;
  }
  seen[i] = 1;
  stats.distinct++;
  stats.lastDistinctAt = Date.now();
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(stats));
    return;
  }
  req.resume();
  req.on("end", () => {
    count(req.url, req.headers["streamgate-offset"]);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  void reportToRunner({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, { keepRunning: true });
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
// Never outlive the runner.
process.on("disconnect", () => process.exit(0));
