/**
 * The fan-out event: an OrderCreated of ~128 bytes of JSON data whose createdAt is its publish
 * time. The gateway gets it through JetStream; the baselines get, through core NATS, the bytes
 * the gateway would send for it (its WebSocket frame, its SSE message), pre-encoded.
 */
import type { OrdersEventInit } from "../../generated/streams/index.js";
import { rfc3339OfMicros, timestampOf } from "./publish-time.js";

export type WireFormat = "ws" | "sse";

export function orderCreated(sequence: number, publishedMicros: number): OrdersEventInit {
  return {
    type: "demo.orders.v1.OrderCreated",
    data: {
      orderId: `ord-${sequence}`,
      customerId: `cus-${sequence % 97}`,
      totalCents: 1999n,
      currency: "EUR",
      createdAt: timestampOf(publishedMicros),
    },
  };
}

/** The envelope the gateway would write for orderCreated(sequence, publishedMicros) at offset `sequence`. */
function envelopeJson(sequence: number, publishedMicros: number): string {
  const data = `{"orderId":"ord-${sequence}","customerId":"cus-${sequence % 97}","totalCents":"1999","currency":"EUR","createdAt":"${rfc3339OfMicros(publishedMicros)}"}`;
  return `{"stream":"orders","offset":${sequence},"id":"bench-${sequence}","type":"demo.orders.v1.OrderCreated","key":"ord-${sequence}","time":"${new Date(publishedMicros / 1000).toISOString()}","data":${data}}`;
}

export function encodedFrame(format: WireFormat, sequence: number, publishedMicros: number): string {
  const envelope = envelopeJson(sequence, publishedMicros);
  return format === "ws" ? `{"op":"event","sub":"orders","event":${envelope}}` : `id: ${sequence}\ndata: ${envelope}\n\n`;
}
