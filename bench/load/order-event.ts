/**
 * The event every publishing and catch-up scenario uses: one demo.orders.v1.OrderShipped whose
 * encoded protobuf message is EVENT_BYTES long, in the two forms a producer sends it: the JSON
 * body of POST /v1/streams/orders/events and the subject, headers and bytes the gateway stores,
 * which the raw JetStream publisher sends as they are.
 */
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { eventSubject, HEADER_KEY, HEADER_TYPE } from "../../src/backbone/subjects.js";

export const STREAM = "orders";
export const EVENT_TYPE = "demo.orders.v1.OrderShipped";
export const EVENT_BYTES = 128;

const ORDER_ID = "ord-0000001";
/** Field tags and lengths of orderId, carrier and trackingNumber take 6 bytes. */
const TRACKING_NUMBER = "1Z".padEnd(EVENT_BYTES - 6 - ORDER_ID.length - "ups".length, "0");
const data = { orderId: ORDER_ID, carrier: "ups", trackingNumber: TRACKING_NUMBER };

/** The encoded message, as JetStream stores it. */
export const EVENT_DATA: Uint8Array = OrderShipped.encode(OrderShipped.fromPartial(data)).finish();
if (EVENT_DATA.byteLength !== EVENT_BYTES) throw new Error(`the bench event encodes to ${EVENT_DATA.byteLength} bytes, not ${EVENT_BYTES}`);

/** One event as a publish request's JSON (the gateway gives it an id). */
export const EVENT_JSON = { type: EVENT_TYPE, data };

export const EVENT_SUBJECT = eventSubject(STREAM, EVENT_TYPE, ORDER_ID);

/** The headers the gateway stores with the event. */
export function eventHeaders(): MsgHdrs {
  const headers = natsHeaders();
  headers.set(HEADER_TYPE, EVENT_TYPE);
  headers.set(HEADER_KEY, ORDER_ID);
  return headers;
}
