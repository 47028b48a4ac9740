import { Counter, Gauge, type Registry } from "prom-client";
import { LATENCY_BUCKETS } from "./buckets.js";
import { TalliedHistogram, type Tally } from "./tallied-histogram.js";

/** Every way events leave the gateway: the reading protocols and webhooks. */
const DELIVERY_PROTOCOLS = ["sse", "ws", "poll", "webhook"] as const;
export type DeliveryProtocol = (typeof DELIVERY_PROTOCOLS)[number];
/** The protocols that hold connections open: all but webhooks. */
type ConnectionProtocol = Exclude<DeliveryProtocol, "webhook">;
const CONNECTION_PROTOCOLS: readonly ConnectionProtocol[] = ["sse", "ws", "poll"];

/** How many readers read from the live feed's window, and how many read JetStream to reach it. */
export interface ReaderCounts {
  live: number;
  catchingUp: number;
}

/**
 * One protocol's deliveries, counted and timed with plain arithmetic: this runs once per event
 * per client. The registry reads what it counted when it is scraped.
 */
export class DeliveryMeter {
  delivered = 0;
  /** Connections open now (not webhooks): a count, so an open connection holds no gauge child. */
  open = 0;

  constructor(private readonly latency: Tally) {}

  /**
   * An event written to a client. One the reader took live (from the feed's window, not a
   * replay read back from JetStream) is also timed, from when it was stored to `now`.
   */
  wrote(storedAt: Date, live: boolean, now?: number): void {
    this.delivered++;
    if (live) this.latency.observe(Math.max(0, (now ?? Date.now()) - storedAt.getTime()) / 1000);
  }
}

/** Connections, readers and deliveries, by protocol. */
export class DeliveryMetrics {
  readonly #meters: ReadonlyMap<DeliveryProtocol, DeliveryMeter>;

  constructor(private readonly registry: Registry) {
    const latency = new TalliedHistogram({
      name: "streamgate_delivery_latency_seconds",
      help: "From an event's stored time to its write to a client, by protocol: live reads and every webhook delivery, not replays.",
      labelNames: ["protocol"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    const meters = new Map(DELIVERY_PROTOCOLS.map((protocol) => [protocol, new DeliveryMeter(latency.tally({ protocol }))]));
    this.#meters = meters;
    new Counter({
      name: "streamgate_events_delivered_total",
      help: "Events written to clients and webhook receivers, by protocol.",
      labelNames: ["protocol"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [protocol, meter] of meters) this.labels(protocol).inc(meter.delivered);
      },
    });
    new Gauge({
      name: "streamgate_open_connections",
      help: "Open SSE responses, long polls and WebSockets.",
      labelNames: ["protocol"],
      registers: [registry],
      collect() {
        for (const protocol of CONNECTION_PROTOCOLS) this.labels(protocol).set(meters.get(protocol)!.open);
      },
    });
  }

  /** The meter of a protocol's deliveries: take it once per connection or worker, not per event. */
  meter(protocol: DeliveryProtocol): DeliveryMeter {
    return this.#meters.get(protocol)!;
  }

  /** Shows what `count` says of the readers at every scrape. */
  observeReaders(count: () => ReaderCounts): void {
    new Gauge({
      name: "streamgate_readers",
      help: 'Open readers of streams: "live" at the live feed\'s window, "catching_up" reading JetStream to reach it.',
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        const { live, catchingUp } = count();
        this.labels("live").set(live);
        this.labels("catching_up").set(catchingUp);
      },
    });
  }
}
