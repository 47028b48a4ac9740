import { collectDefaultMetrics, Registry } from "prom-client";
import { BackboneMetrics } from "./backbone-metrics.js";
import { DeliveryMetrics } from "./delivery-metrics.js";
import { HttpMetrics } from "./http-metrics.js";
import { PublishMetrics } from "./publish-metrics.js";
import { WebhookMetrics } from "./webhook-metrics.js";

/**
 * The gateway's metrics (GET /metrics), in a registry of its own: several gateways in one
 * process (tests) count apart. The rest of the code talks to this, never to prom-client.
 */
export class Metrics {
  readonly #registry = new Registry();
  readonly publishing = new PublishMetrics(this.#registry);
  readonly delivery = new DeliveryMetrics(this.#registry);
  readonly webhooks = new WebhookMetrics(this.#registry);
  readonly backbone = new BackboneMetrics(this.#registry);
  readonly http = new HttpMetrics(this.#registry);

  constructor() {
    // The process's CPU, memory, handles, event-loop lag and garbage collections.
    collectDefaultMetrics({ register: this.#registry });
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The Prometheus text format. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }
}
