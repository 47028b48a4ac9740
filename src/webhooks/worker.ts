import type { Consumer, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { FastifyBaseLogger } from "fastify";
import { fromStoredMsg } from "../backbone/reader.js";
import { EncodedEvent, eventFilter, type EventFilter } from "../fanout/encoded-event.js";
import type { DeliveryMeter } from "../metrics/delivery-metrics.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Schemas } from "../schema/registry.js";
import type { Deliverer, WebhookTarget } from "./delivery.js";
import { REDELIVER, type WebhookLogs } from "./logs.js";
import { WebhookEvent } from "./payload.js";
import { retryDelayMs, type Webhook } from "./registration.js";
import type { SharedEvents } from "./shared-events.js";
import { SkipWatch } from "./skip-watch.js";

export interface WorkerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  schemas: Schemas;
  deliverer: Deliverer;
  /** One decoded event per offset for all webhooks of a stream. */
  events: SharedEvents;
  logs: WebhookLogs;
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** The receiver answered 410. */
  disable(webhookId: string, reason: string): Promise<void>;
}

/**
 * Messages one pull asks for. The consumer's max_ack_pending (= maxInFlight), not the pull,
 * bounds what is handed out at once, so a bigger pull takes the same events in the same order
 * with one pull request per many deliveries rather than one per delivery.
 */
const PULL_BATCH = 100;

/** One event to deliver, from the webhook's stream or from a redelivery request. */
interface Job {
  event: WebhookEvent;
  msg: JsMsg;
}

/**
 * Delivers one webhook's events from its durable consumer. Every gateway runs a worker per
 * webhook; JetStream's max_ack_pending (= maxInFlight) holds across all of them, so with 1
 * the events go out in offset order, one at a time, wherever they are sent from. Retries are
 * NAKs with a delay: the backbone, not this process, remembers what is due when.
 */
export class WebhookWorker {
  #stopping = new AbortController();
  #inFlight = new Set<Promise<unknown>>();
  #loops: Promise<void>[] = [];
  #skips?: SkipWatch;
  readonly #filter: EventFilter;
  readonly #meter: DeliveryMeter;
  readonly #target: WebhookTarget;

  constructor(
    readonly webhook: Webhook,
    private readonly deps: WorkerDeps,
  ) {
    this.#filter = eventFilter(webhook);
    this.#meter = deps.metrics.delivery.meter("webhook");
    this.#target = deps.deliverer.to(webhook);
  }

  start(): void {
    const { stream } = this.webhook;
    const opened = async (consumer: Consumer) => {
      // The info consumers.get read, before any pull: a fresh read would count what pulls took.
      this.#skips ??= new SkipWatch(this.deps.jsm, stream, SkipWatch.resumingAt(await consumer.info(true)));
    };
    this.#loops = [
      this.#run(stream, (msg) => this.#fromStream(msg), opened),
      this.#run(REDELIVER, async (msg) => {
        const { offset } = msg.json<{ offset: number }>();
        const stored = await this.deps.jsm.streams.getMessage(this.webhook.stream, { seq: offset }).catch(() => null);
        if (!stored) {
          // Retention removed it since it died: there is nothing left to send.
          msg.term();
          return undefined;
        }
        return { event: new WebhookEvent(new EncodedEvent(fromStoredMsg(this.webhook.stream, stored), this.deps.schemas)), msg };
      }),
    ];
  }

  async #fromStream(msg: JsMsg): Promise<Job | undefined> {
    const skips = this.#skips!;
    const gap = await skips.gapBefore(msg.seq);
    // Taken only once recorded: if recording fails, the redelivered event looks again.
    if (gap) await this.deps.logs.recordGap(this.webhook.id, gap);
    skips.taken(msg.seq);
    const event = this.deps.events.of(this.webhook.stream, msg);
    // Two or more types cannot be one filter subject on the server: the rest are skipped here.
    if (!event.encoded.matches(this.#filter)) {
      msg.ack();
      return undefined;
    }
    return { event, msg };
  }

  /** Stops taking events and waits for the attempts under way. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.allSettled(this.#loops);
    await Promise.allSettled([...this.#inFlight]);
  }

  async #run(
    stream: string,
    toJob: (msg: JsMsg) => Promise<Job | undefined>,
    opened: (consumer: Consumer) => Promise<void> = async () => undefined,
  ): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      try {
        const consumer = await this.deps.js.consumers.get(stream, this.webhook.id);
        await opened(consumer);
        const messages = await consumer.consume({ max_messages: Math.max(this.webhook.maxInFlight, PULL_BATCH), expires: 5_000 });
        const stop = () => void messages.stop();
        signal.addEventListener("abort", stop, { once: true });
        // stop() may have come while the consumer was being set up.
        if (signal.aborted) stop();
        try {
          await this.#take(messages, toJob, signal);
        } finally {
          signal.removeEventListener("abort", stop);
          stop();
        }
        if (!signal.aborted) throw new Error("the consumer's messages ended");
      } catch (err) {
        if (signal.aborted) return;
        this.deps.log.warn({ err, webhook: this.webhook.id }, "webhook consumer failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  async #take(
    messages: AsyncIterable<JsMsg>,
    toJob: (msg: JsMsg) => Promise<Job | undefined>,
    signal: AbortSignal,
  ): Promise<void> {
    for await (const msg of messages) {
      if (signal.aborted) {
        // Not ours to finish: another gateway (or this one, later) gets it at once.
        msg.nak();
        break;
      }
      const job = await toJob(msg);
      if (!job) continue;
      // One bound for both loops (stream and redeliveries): the receiver sees at most
      // maxInFlight requests from this gateway. Checked and taken without an await between.
      while (this.#inFlight.size >= this.webhook.maxInFlight) await Promise.race(this.#inFlight);
      // An attempt that fails to record its outcome leaves the event unsettled: JetStream
      // hands it out again after ack_wait. Logged, never an unhandled rejection.
      const attempt = this.#attempt(job).catch((err: unknown) =>
        this.deps.log.error({ err, webhook: this.webhook.id }, "webhook attempt could not be settled"),
      );
      this.#inFlight.add(attempt);
      void attempt.finally(() => this.#inFlight.delete(attempt));
      // With one in flight, wait: the next event must not start before this one settles.
      if (this.webhook.maxInFlight === 1) await attempt;
    }
  }

  async #attempt({ event, msg }: Job): Promise<void> {
    const { webhook, deps } = this;
    const attempt = msg.info.deliveryCount;
    const outcome = await this.#target.attempt(event, attempt);
    const { stored } = event;
    deps.logs.recordAttempt(
      webhook.id,
      {
        offset: stored.offset,
        eventId: stored.id,
        attempt,
        at: new Date().toISOString(),
        durationMs: outcome.durationMs,
        ...(outcome.status !== undefined && { status: outcome.status }),
        ...(outcome.kind === "failed" && { error: outcome.error }),
        ...(outcome.response !== undefined && { response: outcome.response }),
      },
      outcome.kind,
    );
    deps.metrics.webhooks.attempted(outcome.kind === "delivered" ? "delivered" : outcome.failure);
    if (outcome.kind === "delivered") {
      // A webhook's events are all timed, replays too: its backlog is its receiver's latency.
      this.#meter.wrote(stored.time, true);
      msg.ack();
      return;
    }
    if (outcome.gone) {
      // Left unsettled: resuming the webhook remakes its consumer, which sends it first. (A NAK
      // would hand it straight back to this worker's pull, which is stopping.)
      this.#stopping.abort();
      await deps.disable(webhook.id, `the receiver answered 410 Gone for offset ${stored.offset}`);
      return;
    }
    const scheduled = retryDelayMs(webhook, attempt);
    if (scheduled !== undefined) {
      // Retry-After, when the receiver gives one, replaces the schedule's delay, not its length.
      msg.nak(outcome.retryAfterMs ?? scheduled);
      return;
    }
    await deps.logs.recordDeadLetter(webhook.id, {
      offset: stored.offset,
      eventId: stored.id,
      attempts: attempt,
      at: new Date().toISOString(),
      lastError: outcome.error,
    });
    deps.metrics.webhooks.deadLettered();
    // Settled as dead: delivery goes on with the next event.
    msg.term();
  }
}
