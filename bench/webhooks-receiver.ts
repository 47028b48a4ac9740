/**
 * The bench's webhook receiver, run as its own process so neither the gateway nor the baseline
 * client shares its CPU: answers every POST 200 at once and counts deliveries per webhook and
 * offset. POST /h/<index> is webhook <index>; anything else counts as a baseline request.
 * GET /stats answers the counts. argv: <webhooks> <events> (offsets 1..events).
 * Prints "listening <port>" when ready.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const webhooks = Number(process.argv[2]);
const events = Number(process.argv[3]);
const seen = new Uint16Array(webhooks * events);
let requests = 0;
let distinct = 0;
let duplicates = 0;
let outOfRange = 0;
let baseline = 0;
let open = 0;
let maxOpen = 0;
let firstAt = 0;
let lastAt = 0;
let lastDistinctAt = 0;

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ requests, distinct, duplicates, outOfRange, baseline, maxOpen, firstAt, lastAt, lastDistinctAt }));
    return;
  }
  if (req.method === "POST" && req.url === "/reset-baseline") {
    baseline = 0;
    maxOpen = 0;
    res.end();
    return;
  }
  open++;
  maxOpen = Math.max(maxOpen, open);
  req.resume();
  req.on("end", () => {
    const now = Date.now();
    const match = /^\/h\/(\d+)$/.exec(req.url ?? "");
    if (match) {
      requests++;
      if (!firstAt) firstAt = now;
      lastAt = now;
      const hook = Number(match[1]);
      const offset = Number(req.headers["streamgate-offset"]);
      if (hook >= webhooks || !(offset >= 1 && offset <= events)) outOfRange++;
      else {
        const i = hook * events + offset - 1;
        if (seen[i]! === 0) {
          distinct++;
          lastDistinctAt = now;
        } else duplicates++;
        seen[i] = seen[i]! + 1;
      }
    } else baseline++;
    open--;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
