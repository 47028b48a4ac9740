/** The event types of the example streams (orders, metrics). */
export const T = {
  created: "demo.orders.v1.OrderCreated",
  shipped: "demo.orders.v1.OrderShipped",
  cancelled: "demo.orders.v1.OrderCancelled",
  metric: "demo.metrics.v1.MetricSample",
} as const;

/** What an event id looks like. */
export const EVENT_ID = /^[A-Za-z0-9_:-]{1,128}$/;
/** What an envelope's time looks like: RFC 3339 in UTC. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let tags = 0;
/** A prefix unique within this process, for keys and ids. */
export function tag(prefix = "t"): string {
  return `${prefix}${++tags}-${process.pid}`;
}

/** `count` consecutive offsets from `start`. */
export function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}
