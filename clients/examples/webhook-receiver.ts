// A webhook receiver in ten lines: verify the signature, get the typed event, answer 2xx.
import { createServer } from "node:http";
import { verifyWebhook } from "../src/index.js";
import { orders } from "../../generated/streams/index.js";

createServer(async (req, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  try {
    const event = verifyWebhook(orders, { body, headers: req.headers }, { secret: process.env.WEBHOOK_SECRET ?? "" });
    if (event.type === "demo.orders.v1.OrderShipped") console.log(event.offset, event.data.trackingNumber);
    res.writeHead(204).end();
  } catch {
    res.writeHead(400).end(); // tampered, stale or unsigned: refused, and the gateway retries
  }
}).listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
