import { Counter, Histogram, type Registry } from "prom-client";
import { LATENCY_BUCKETS } from "./buckets.js";

export type PublishProtocol = "http" | "http_batch" | "ws";
/** refused: the client's fault (grants, rate); unavailable: the backbone's; failed: a bug. */
export type PublishOutcome = "stored" | "duplicate" | "refused" | "unavailable" | "failed";

/** Events stored, and how long storing took. */
export class PublishMetrics {
  readonly #published: Counter<"stream">;
  readonly #latency: Histogram<"protocol" | "outcome">;

  constructor(registry: Registry) {
    this.#published = new Counter({
      name: "streamgate_events_published_total",
      help: "Events stored through the gateway (not duplicates), by stream.",
      labelNames: ["stream"],
      registers: [registry],
    });
    this.#latency = new Histogram({
      name: "streamgate_publish_duration_seconds",
      help: "Time to authorize and store a publish, by protocol (http_batch: a whole batch) and outcome.",
      labelNames: ["protocol", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** One event stored (not a duplicate). */
  stored(stream: string): void {
    this.#published.labels(stream).inc();
  }

  /** A publish answered, `startedAt` being its performance.now() when it began. */
  answered(protocol: PublishProtocol, outcome: PublishOutcome, startedAt: number): void {
    // A labelled child would cost as much: prom-client builds the label key on every observation.
    this.#latency.observe({ protocol, outcome }, (performance.now() - startedAt) / 1000);
  }
}
