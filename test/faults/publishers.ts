/**
 * Publishers through the load balancer (PROTOCOL.md section 4): each event has its own
 * Idempotency-Key, and is sent again with the same key after a 5xx, a 429 or a network error,
 * until it is stored or its deadline passes. Together they keep a rate, without bursts to
 * catch up after an outage.
 */
import { T } from "../support/events.js";
import { sleep } from "../support/wait.js";
import type { PublisherLog, StatusSeen } from "./observations.js";

/** Longer than a gateway waits for the backbone before it answers 503. */
const ATTEMPT_TIMEOUT_MS = 30_000;
const RETRY_PAUSE_MS = 100;

/** A 4xx other than 429: the gateway refused what the publisher sent, which no retry mends. */
export class PublishRefusedError extends Error {}

export interface PublisherPoolOptions {
  baseUrl: string;
  /** Ids are `<prefix>-<n>`. */
  prefix: string;
  publishers: number;
  /** Events per second, all publishers together. */
  rate: number;
  /** How long one event may take to be stored, retries included. */
  deadlineMs: number;
}

export class PublisherPool {
  readonly logs: PublisherLog[] = [];
  /** Events per second; may be changed while running. */
  rate: number;
  #next = 0;
  #dueAt = 0;
  #stopped = false;
  readonly #running: Promise<void>[] = [];

  constructor(private readonly options: PublisherPoolOptions) {
    this.rate = options.rate;
    for (let i = 0; i < options.publishers; i++) {
      const log: PublisherLog = { published: [], abandoned: [], statuses: [] };
      this.logs.push(log);
      this.#running.push(this.#publishUntilStopped(log));
    }
  }

  /** Events stored so far. */
  get stored(): number {
    return this.logs.reduce((sum, log) => sum + log.published.length, 0);
  }

  /** Lets every event under way finish (or give up), and starts none. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
  }

  async #publishUntilStopped(log: PublisherLog): Promise<void> {
    while (!this.#stopped) {
      // Each publisher takes the next slot; a slot missed during an outage is not made up.
      const now = Date.now();
      const dueAt = Math.max(this.#dueAt, now);
      this.#dueAt = dueAt + 1_000 / this.rate;
      if (dueAt > now) await sleep(dueAt - now);
      if (this.#stopped) return;
      await this.#publishOne(log, `${this.options.prefix}-${this.#next++}`);
    }
  }

  async #publishOne(log: PublisherLog, id: string): Promise<void> {
    const firstTriedAt = Date.now();
    const deadline = firstTriedAt + this.options.deadlineMs;
    while (Date.now() < deadline) {
      const answer = await this.#attempt(id);
      if ("offset" in answer) {
        log.published.push({ id, offset: answer.offset, firstTriedAt, at: Date.now(), duplicate: answer.duplicate });
        return;
      }
      if (answer.status !== undefined) log.statuses.push(answer.status);
      await sleep(RETRY_PAUSE_MS);
    }
    log.abandoned.push(id);
  }

  /** One POST: the stored offset, or what was seen instead (nothing for a network error). */
  async #attempt(id: string): Promise<{ offset: number; duplicate: boolean } | { status?: StatusSeen }> {
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}/v1/streams/orders/events`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": id },
        body: JSON.stringify({ type: T.shipped, data: { orderId: id, carrier: "ups", trackingNumber: id } }),
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
    } catch {
      return {};
    }
    const text = await response.text().catch(() => "");
    if (response.status === 200 || response.status === 201) return JSON.parse(text) as { offset: number; duplicate: boolean };
    const status: StatusSeen = { status: response.status, retryAfter: response.headers.has("retry-after"), at: Date.now(), what: `publish: ${text.slice(0, 200)}` };
    if (response.status < 500 && response.status !== 429) throw new PublishRefusedError(`publish ${id} answered ${response.status}: ${text}`);
    return { status };
  }
}
