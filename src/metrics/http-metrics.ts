import { Counter, type Registry } from "prom-client";

/** HTTP responses, by route pattern: never the URL itself, so the series stay few. */
export class HttpMetrics {
  readonly #responses: Counter<"method" | "route" | "status">;

  constructor(registry: Registry) {
    this.#responses = new Counter({
      name: "streamgate_http_responses_total",
      help: 'HTTP responses by method, route pattern ("unmatched" for none) and status code.',
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
  }

  /** `route` is the pattern that matched (/v1/streams/:stream/sse), undefined when none did. */
  response(method: string, route: string | undefined, status: number): void {
    this.#responses.inc({ method, route: route ?? "unmatched", status: String(status) });
  }
}
