/**
 * Asks the webhook API (GET /v1/webhooks) through the load balancer every PERIOD_MS while a
 * fault runs, recording every answer that was not a 200: the webhook state must keep
 * answering, and backbone trouble must be a 503 with Retry-After, never a 500.
 */
import { sleep } from "../support/wait.js";
import type { StatusSeen } from "./observations.js";

const PERIOD_MS = 250;

export class WebhookApiProbe {
  readonly statuses: StatusSeen[] = [];
  /** Date.now() of each 200 that listed every one of the webhooks given. */
  readonly served: number[] = [];
  #stopped = false;
  readonly #running: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    private readonly ids: () => readonly string[],
  ) {
    this.#running = this.#askUntilStopped();
  }

  /** Whether a 200 listing every webhook came after `since` (Date.now()). */
  servedSince(since: number): boolean {
    return this.served.some((at) => at > since);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #askUntilStopped(): Promise<void> {
    while (!this.#stopped) {
      await this.#ask();
      await sleep(PERIOD_MS);
    }
  }

  async #ask(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/v1/webhooks`, { signal: AbortSignal.timeout(20_000) });
    } catch {
      return; // no answer at all: nothing a status could say
    }
    const text = await response.text().catch(() => "");
    if (response.status !== 200) {
      this.statuses.push({ status: response.status, retryAfter: response.headers.has("retry-after"), at: Date.now(), what: `webhook API: ${text.slice(0, 200)}` });
      return;
    }
    const listed = new Set((JSON.parse(text) as { webhooks: { id: string }[] }).webhooks.map((w) => w.id));
    if (this.ids().every((id) => listed.has(id))) this.served.push(Date.now());
  }
}
