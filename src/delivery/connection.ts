import type { Metrics } from "../metrics/metrics.js";
import type { Shutdown } from "./shutdown.js";
import type { Protocol } from "./transport.js";

/**
 * One client connection (an SSE response, a long poll, a WebSocket): counted while open, and
 * ended when the gateway shuts down. Its signal aborts either way, stopping its deliveries.
 */
export class Connection {
  readonly #ended = new AbortController();
  readonly #uncount: () => void;
  #unregister: (() => void) | undefined;
  readonly delivered: (amount?: number) => void;

  constructor(
    readonly protocol: Protocol,
    metrics: Metrics,
    shutdown: Shutdown,
    /** What the protocol does when the gateway shuts down (close with 1012, end the response). */
    onShutdown: () => void = () => undefined,
  ) {
    this.#uncount = metrics.open(protocol);
    this.delivered = metrics.delivered.labelled({ protocol });
    // Called at once when the gateway is already shutting down.
    this.#unregister = shutdown.onShutdown(() => {
      this.close();
      onShutdown();
    });
  }

  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  close(): void {
    if (this.#ended.signal.aborted) return;
    this.#ended.abort();
    this.#uncount();
    this.#unregister?.();
  }
}
