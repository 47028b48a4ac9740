import type { NatsConnection } from "@nats-io/transport-node";
import { Counter, Gauge, type Registry } from "prom-client";

const STATES = ["connected", "reconnecting", "draining", "closed"] as const;

/** The NATS connection, as nats.js reports it. */
export class BackboneMetrics {
  constructor(private readonly registry: Registry) {}

  /** Follows the connection's status events for as long as it lives. */
  observe(nc: Pick<NatsConnection, "status" | "isClosed" | "isDraining">): void {
    let disconnected = false;
    const reconnects = new Counter({
      name: "streamgate_nats_reconnects_total",
      help: "Times the NATS connection came back after it was lost.",
      registers: [this.registry],
    });
    new Gauge({
      name: "streamgate_nats_connection_state",
      help: "1 for the NATS connection's current state (connected, reconnecting, draining, closed), 0 for the others.",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        const state = nc.isClosed() ? "closed" : nc.isDraining() ? "draining" : disconnected ? "reconnecting" : "connected";
        for (const s of STATES) this.labels(s).set(s === state ? 1 : 0);
      },
    });
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") disconnected = true;
        if (status.type === "reconnect") {
          disconnected = false;
          reconnects.inc();
        }
      }
    })();
  }
}
