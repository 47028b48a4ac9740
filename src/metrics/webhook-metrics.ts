import { Counter, Gauge, type Registry } from "prom-client";

/**
 * How one attempt ended: delivered (2xx), rejected (any other answer), timeout (no answer within
 * the webhook's timeout), unreachable (no answer: connection refused or reset, DNS), forbidden
 * (the network policy refused the address).
 */
const ATTEMPT_OUTCOMES = ["delivered", "rejected", "timeout", "unreachable", "forbidden"] as const;
export type WebhookAttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
const STATUSES = ["active", "paused", "disabled"] as const;

/** What the gateway knows of its webhooks, for the gauges. */
export interface WebhookSource {
  /** Every registered webhook, as this gateway last saw it (no backbone round trip). */
  webhooks(): Iterable<{ id: string; stream: string; status: (typeof STATUSES)[number] }>;
  /** Events not yet settled, per webhook id; may answer with older figures rather than keep a scrape waiting. */
  backlogs(): Promise<ReadonlyMap<string, number>>;
}

/** Webhook attempts, dead letters, possible duplicates, backlogs and statuses. */
export class WebhookMetrics {
  readonly #attempts = new Map<WebhookAttemptOutcome, Counter.Internal>();
  readonly #deadLetters: Counter;
  readonly #duplicates: Counter;

  constructor(private readonly registry: Registry) {
    const attempts = new Counter({
      name: "streamgate_webhook_attempts_total",
      help: "Webhook delivery attempts, by outcome: delivered, rejected (a non-2xx answer), timeout, unreachable, forbidden (network policy).",
      labelNames: ["outcome"],
      registers: [registry],
    });
    for (const outcome of ATTEMPT_OUTCOMES) {
      attempts.labels(outcome).inc(0);
      this.#attempts.set(outcome, attempts.labels(outcome));
    }
    this.#deadLetters = new Counter({
      name: "streamgate_webhook_dead_letters_total",
      help: "Events that ran out of retries and became dead letters.",
      registers: [registry],
    });
    this.#duplicates = new Counter({
      name: "streamgate_webhook_possible_duplicates_total",
      help: "Events sent again after the gateway holding them went silent mid-delivery (it died, or missed its heartbeats): the receiver may have them twice.",
      registers: [registry],
    });
  }

  attempted(outcome: WebhookAttemptOutcome): void {
    this.#attempts.get(outcome)!.inc();
  }

  deadLettered(): void {
    this.#deadLetters.inc();
  }

  duplicated(): void {
    this.#duplicates.inc();
  }

  /** Shows every webhook's status and backlog at every scrape. */
  observe(source: WebhookSource): void {
    new Gauge({
      name: "streamgate_webhook_status",
      help: "1 for a webhook's current status (active, paused, disabled), 0 for the others.",
      labelNames: ["webhook", "stream", "status"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { id, stream, status } of source.webhooks()) {
          for (const s of STATUSES) this.labels(id, stream, s).set(s === status ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "streamgate_webhook_backlog",
      help: "Events of the webhook's stream (matching its filter) not yet settled: delivered or dead-lettered.",
      labelNames: ["webhook", "stream"],
      registers: [this.registry],
      async collect() {
        const backlogs = await source.backlogs();
        this.reset();
        for (const { id, stream } of source.webhooks()) {
          const backlog = backlogs.get(id);
          if (backlog !== undefined) this.labels(id, stream).set(backlog);
        }
      },
    });
  }
}
