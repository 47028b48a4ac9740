/**
 * The webhooks scenario's receiver, a server process of its own so neither the gateway nor the
 * baseline client shares its CPU: answers every POST 200 at once and counts deliveries per
 * webhook and offset. POST /h/<index> is webhook <index>; any other POST counts as a baseline
 * request.
 *
 *   args { webhooks, events } (offsets 1..events); first message { url };
 *   "stats" → ReceiverStats; anything else ends it, reporting ReceiverStats.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadMain } from "../harness/load-main.js";

export interface ReceiverStats {
  /** Distinct (webhook, offset) pairs delivered. */
  distinct: number;
  /** Deliveries of a pair delivered before. */
  duplicates: number;
  /** Deliveries to an unknown webhook or of an unknown offset. */
  outOfRange: number;
  /** Baseline POSTs. */
  baseline: number;
  /** Date.now() of the last distinct delivery. */
  lastDistinctAt: number;
}

const HOOK_PATH = /^\/h\/(\d+)$/;

loadMain<{ webhooks: number; events: number }, ReceiverStats>(async ({ webhooks, events }, parent) => {
  const seen = new Uint8Array(webhooks * events);
  const stats: ReceiverStats = { distinct: 0, duplicates: 0, outOfRange: 0, baseline: 0, lastDistinctAt: 0 };
  const count = (url: string | undefined, offsetHeader: string | string[] | undefined): void => {
    const match = HOOK_PATH.exec(url ?? "");
    if (!match) {
      stats.baseline++;
      return;
    }
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
  };

  const server = createServer((req, res) => {
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", 1024, resolve));
  parent.send({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  while ((await parent.next()) === "stats") parent.send(stats);
  server.closeAllConnections();
  server.close();
  return stats;
});
