/**
 * The fault suite's three webhooks, each with a real receiver (test/support/webhook-receiver.ts)
 * that checks every delivery's signature with the project's client (verifyWebhook) and accepts
 * only those; a receiver can be taken down (every connection dropped unanswered) and brought back.
 */
import { orders } from "../../generated/streams/index.js";
import { verifyWebhook, WebhookVerificationError } from "../../clients/src/index.js";
import { createWebhook, getWebhook } from "../support/gateway-process.js";
import { startReceiver, type Receiver, type ReceivedRequest, type Reply } from "../support/webhook-receiver.js";
import type { WebhookLog } from "./observations.js";

/** Long enough that no delivery becomes a dead letter while a receiver is down (50 × 2 s ± 20%). */
const RETRY_SCHEDULE = Array.from({ length: 50 }, () => "2s");
const TIMEOUT_MS = 5_000;
/** Receivers answer at once, unless a fault needs deliveries held (answerDelayMs). */
export const ANSWER_DELAY_MS = 0;

/** Two in offset order (one of them in CloudEvents binary mode), one four at a time. */
const HOOKS = [
  { name: "a", maxInFlight: 1, format: "envelope" },
  { name: "b", maxInFlight: 1, format: "cloudevents" },
  { name: "c", maxInFlight: 4, format: "envelope" },
] as const;

export type HookName = (typeof HOOKS)[number]["name"];

export class WebhookSink {
  readonly log: WebhookLog;
  /** While true, every delivery's connection is dropped unanswered, as if the receiver were down. */
  down = false;
  /** How long each accepted delivery is held before its answer. */
  answerDelayMs = ANSWER_DELAY_MS;
  id = "";
  #secret = "";

  private constructor(
    readonly receiver: Receiver,
    name: string,
    maxInFlight: number,
  ) {
    this.log = { name, maxInFlight, timeoutMs: TIMEOUT_MS, startedAt: Date.now(), arrivals: [], badSignatures: 0 };
    receiver.behaviour = (request) => this.#answer(request);
  }

  static async start(name: string, maxInFlight: number, gatewayPids: () => number[]): Promise<WebhookSink> {
    return new WebhookSink(await startReceiver(undefined, { owners: gatewayPids }), name, maxInFlight);
  }

  /** Deliveries answered so far, accepted or not. */
  get requests(): readonly ReceivedRequest[] {
    return this.receiver.requests;
  }

  async register(baseUrl: string, from: number, format: string): Promise<void> {
    const created = await createWebhook(baseUrl, {
      url: this.receiver.url,
      stream: "orders",
      from,
      format,
      maxInFlight: this.log.maxInFlight,
      timeoutMs: TIMEOUT_MS,
      retrySchedule: RETRY_SCHEDULE,
    });
    this.id = created.id;
    this.#secret = created.secret;
  }

  /** Whether it has accepted every one of `offsets`. */
  hasAll(offsets: readonly number[]): boolean {
    const accepted = new Set(this.log.arrivals.map((a) => a.offset));
    return offsets.every((o) => accepted.has(o));
  }

  /** Reads counts.delivered from the webhook's view, and deletes the webhook. */
  async finish(baseUrl: string): Promise<void> {
    const view = (await getWebhook(baseUrl, this.id)) as { counts?: { delivered?: number } };
    this.log.reportedDelivered = view.counts?.delivered;
    const deleted = await fetch(`${baseUrl}/v1/webhooks/${this.id}`, { method: "DELETE" });
    if (deleted.status >= 300) throw new Error(`DELETE /v1/webhooks/${this.id} answered ${deleted.status}: ${await deleted.text()}`);
  }

  close(): Promise<void> {
    return this.receiver.close();
  }

  #answer(request: ReceivedRequest): Reply {
    if (this.down) return { destroy: true };
    let event;
    try {
      event = verifyWebhook(orders, { body: request.body, headers: request.headers }, { secret: this.#secret });
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      this.log.badSignatures++;
      return { status: 400 };
    }
    this.log.arrivals.push({
      offset: event.offset,
      id: event.id,
      at: request.at,
      ...(request.gatewayPid !== undefined && { gatewayPid: request.gatewayPid }),
    });
    return { status: 204, delayMs: this.answerDelayMs };
  }
}

/** Starts the three receivers and registers their webhooks from `from` on. */
export async function startWebhooks(baseUrl: string, from: number, gatewayPids: () => number[]): Promise<WebhookSink[]> {
  const sinks: WebhookSink[] = [];
  try {
    for (const hook of HOOKS) {
      const sink = await WebhookSink.start(hook.name, hook.maxInFlight, gatewayPids);
      sinks.push(sink);
      await sink.register(baseUrl, from, hook.format);
    }
  } catch (err) {
    await Promise.all(sinks.map((s) => s.close()));
    throw err;
  }
  return sinks;
}
