/**
 * The orders events of the browser client test, shared by the test (Node) and the page
 * (bundled): what to publish for a spec, as typed init (for the client's publish) and as
 * canonical proto3 JSON (for a plain HTTP publish), and the fields the page must read back.
 *
 * The values sit where precision gets lost: int64 beyond 2^53 (and its minimum), a uint32 at its
 * maximum, Timestamps whose nanoseconds are not whole milliseconds, non-ASCII text.
 */
import type { OrdersEventInit } from "../../generated/streams/index.js";
import { OrderCancelled_Reason } from "../../generated/ts/demo/orders/v1/orders.js";

export type Kind = "created" | "shipped" | "cancelled";
export const KINDS: readonly Kind[] = ["created", "shipped", "cancelled"];

/** One event to publish: its kind, its order id (also its key), and a number varying its values. */
export interface EventSpec {
  kind: Kind;
  orderId: string;
  n: number;
}

/** What the page reads from a typed event after narrowing on its type. */
export type Fields = Record<string, string | number | boolean>;

/** One event as the page recorded it. */
export interface Row {
  offset: number;
  id: string;
  key: string | null;
  type: string;
  /** event.time, ISO. */
  time: string;
  fields: Fields;
}

const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;
const totalCents = (n: number) => INT64_MAX - BigInt(n);
const unitPriceCents = (n: number) => INT64_MIN + BigInt(n);
const seconds = (n: number) => 1_763_800_000 + n;
/** Never a whole number of milliseconds: a Date on the way would zero the last six digits. */
const nanos = (n: number) => (123_456_789 + n * 1_000_001) % 1_000_000_000;
const note = (n: number) => `ü\u{1F680} ${n}`;

export function typeOf(kind: Kind): OrdersEventInit["type"] {
  return kind === "created" ? "demo.orders.v1.OrderCreated" : kind === "shipped" ? "demo.orders.v1.OrderShipped" : "demo.orders.v1.OrderCancelled";
}

/** The event as the typed client publishes it. */
export function eventOf({ kind, orderId, n }: EventSpec): OrdersEventInit {
  switch (kind) {
    case "created":
      return {
        type: "demo.orders.v1.OrderCreated",
        data: {
          orderId,
          customerId: `cust-${n}`,
          items: [{ sku: `sku-${n}`, quantity: 4_294_967_295, unitPriceCents: unitPriceCents(n) }],
          totalCents: totalCents(n),
          currency: "€",
          createdAt: { seconds: BigInt(seconds(n)), nanos: nanos(n) },
        },
      };
    case "shipped":
      return { type: "demo.orders.v1.OrderShipped", data: { orderId, carrier: "dhl", trackingNumber: `1Z-${orderId}` } };
    case "cancelled":
      return {
        type: "demo.orders.v1.OrderCancelled",
        data: { orderId, reason: OrderCancelled_Reason.REASON_PAYMENT_FAILED, note: note(n) },
      };
  }
}

/** The same event as the JSON body of POST /v1/streams/orders/events (PROTOCOL.md 4), written out by hand. */
export function jsonOf({ kind, orderId, n }: EventSpec): { type: string; data: Record<string, unknown> } {
  switch (kind) {
    case "created": {
      const whole = new Date(seconds(n) * 1000).toISOString().slice(0, 19);
      return {
        type: typeOf(kind),
        data: {
          orderId,
          customerId: `cust-${n}`,
          items: [{ sku: `sku-${n}`, quantity: 4_294_967_295, unitPriceCents: unitPriceCents(n).toString() }],
          totalCents: totalCents(n).toString(),
          currency: "€",
          createdAt: `${whole}.${String(nanos(n)).padStart(9, "0")}Z`,
        },
      };
    }
    case "shipped":
      return { type: typeOf(kind), data: { orderId, carrier: "dhl", trackingNumber: `1Z-${orderId}` } };
    case "cancelled":
      return { type: typeOf(kind), data: { orderId, reason: "REASON_PAYMENT_FAILED", note: note(n) } };
  }
}

/** The fields the page must record for the event of this spec (see fieldsOf in page/main.ts). */
export function expectedFields({ kind, orderId, n }: EventSpec): Fields {
  switch (kind) {
    case "created":
      return {
        orderId,
        customerId: `cust-${n}`,
        currency: "€",
        totalCents: totalCents(n).toString(),
        totalCentsIsBigint: true,
        unitPriceCents: unitPriceCents(n).toString(),
        quantity: 4_294_967_295,
        createdAtSeconds: String(seconds(n)),
        createdAtNanos: nanos(n),
      };
    case "shipped":
      return { orderId, carrier: "dhl", trackingNumber: `1Z-${orderId}` };
    case "cancelled":
      return { orderId, reason: OrderCancelled_Reason.REASON_PAYMENT_FAILED, note: note(n) };
  }
}
