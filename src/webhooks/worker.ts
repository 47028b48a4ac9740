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
import { updateAckWait } from "./consumer-config.js";
import { HeldMessages, type HeldMessage } from "./held-messages.js";
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

/** Which of the webhook's two consumers a message came from. */
type Source = "events" | "redeliver";

/**
 * Delivers one webhook's events from its durable consumer. Every gateway runs a worker per
 * webhook; JetStream's max_ack_pending (= maxInFlight) holds across all of them, so with 1
 * the events go out in offset order, one at a time, wherever they are sent from. Retries are
 * NAKs with a delay: the backbone, not this process, remembers what is due when. Every event
 * this process holds is kept alive by a heartbeat, so a short ack wait hands only a dead (or
 * silent) gateway's events to another; outcomes are counted before they are settled (tally.ts).
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
      this.#run(stream, "events", (msg) => this.#fromStream(msg), opened),
      this.#run(REDELIVER, "redeliver", async (msg) => {
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
    source: Source,
    toJob: (msg: JsMsg) => Promise<Job | undefined>,
    opened: (consumer: Consumer) => Promise<void> = async () => undefined,
  ): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      const held = new HeldMessages();
      try {
        await updateAckWait(this.deps.jsm, stream, this.webhook.id);
        const consumer = await this.deps.js.consumers.get(stream, this.webhook.id);
        await opened(consumer);
        const messages = await consumer.consume({
          max_messages: Math.max(this.webhook.maxInFlight, PULL_BATCH),
          expires: 5_000,
          callback: held.arrived,
        });
        void messages.closed().finally(() => held.end());
        const stop = () => void messages.stop();
        signal.addEventListener("abort", stop, { once: true });
        // stop() may have come while the consumer was being set up.
        if (signal.aborted) stop();
        try {
          await this.#take(held, source, toJob, signal);
        } finally {
          signal.removeEventListener("abort", stop);
          stop();
        }
        if (!signal.aborted) throw new Error("the consumer's messages ended");
      } catch (err) {
        if (signal.aborted) return;
        this.deps.log.warn({ err, webhook: this.webhook.id }, "webhook consumer failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      } finally {
        await this.#giveBack(held.drain(), source);
      }
    }
  }

  async #take(
    messages: HeldMessages,
    source: Source,
    toJob: (msg: JsMsg) => Promise<Job | undefined>,
    signal: AbortSignal,
  ): Promise<void> {
    for await (const held of messages) {
      if (signal.aborted) {
        // Not ours to finish: another gateway (or this one, later) gets it at once.
        await this.#giveBack([held], source);
        break;
      }
      let job: Job | undefined;
      try {
        job = await toJob(held.msg);
      } finally {
        if (!job) held.release();
      }
      if (!job) continue;
      // One bound for both loops (stream and redeliveries): the receiver sees at most
      // maxInFlight requests from this gateway. Checked and taken without an await between.
      while (this.#inFlight.size >= this.webhook.maxInFlight) await Promise.race(this.#inFlight);
      // An attempt that fails to record its outcome leaves the event unsettled: JetStream
      // hands it out again after ack_wait. Logged, never an unhandled rejection.
      const attempt = this.#attempt(job, held, this.#ref(source, held.msg))
        .catch((err: unknown) => this.deps.log.error({ err, webhook: this.webhook.id }, "webhook attempt could not be settled"))
        .finally(() => held.release());
      this.#inFlight.add(attempt);
      void attempt.finally(() => this.#inFlight.delete(attempt));
      // With one in flight, wait: the next event must not start before this one settles.
      if (this.webhook.maxInFlight === 1) await attempt;
    }
  }

  /** Hands events this process will not attempt back to JetStream, for any gateway to take at once. */
  async #giveBack(held: HeldMessage[], source: Source): Promise<void> {
    for (const one of held) {
      const { msg } = one;
      try {
        await this.deps.logs.tally.returned(this.webhook.id, {}, { ref: this.#ref(source, msg), outcome: "returned", deliveryCount: msg.info.deliveryCount });
        msg.nak();
      } catch (err) {
        // Unrecorded, a NAK would look like a takeover: left for JetStream to hand out after its ack wait.
        this.deps.log.warn({ err, webhook: this.webhook.id }, "could not give a webhook event back");
      } finally {
        one.release();
      }
    }
  }

  #ref(source: Source, msg: JsMsg): string {
    return `${this.webhook.generation}.${source}.${msg.seq}`;
  }

  async #attempt({ event, msg }: Job, held: HeldMessage, ref: string): Promise<void> {
    const { webhook, deps } = this;
    const { tally } = deps.logs;
    const attempt = msg.info.deliveryCount;
    if (attempt > 1) {
      const prior = await tally.prior(webhook.id, ref, attempt);
      // Its holder counted it and died before JetStream heard: settled as it was, not sent again.
      if (prior === "delivered") return this.#settled(msg, ref, () => msg.ack());
      if (prior === "dead") return this.#settled(msg, ref, () => msg.term());
      if (prior === undefined) {
        // Its holder went silent mid-delivery: the receiver may already have it.
        await tally.commit(webhook.id, { duplicates: 1 });
        deps.metrics.webhooks.duplicated();
      }
    }
    // Its newer delivery (here or elsewhere) sends it: released, never sent twice from here.
    if (held.lapsed) return;
    const outcome = await this.#target.attempt(event, attempt);
    const { stored } = event;
    const at = new Date().toISOString();
    deps.logs.recordAttempt(webhook.id, {
      offset: stored.offset,
      eventId: stored.id,
      attempt,
      at,
      durationMs: outcome.durationMs,
      ...(outcome.status !== undefined && { status: outcome.status }),
      ...(outcome.kind === "failed" && { error: outcome.error }),
      ...(outcome.response !== undefined && { response: outcome.response }),
    });
    deps.metrics.webhooks.attempted(outcome.kind === "delivered" ? "delivered" : outcome.failure);
    if (outcome.kind === "delivered") {
      // A webhook's events are all timed, replays too: its backlog is its receiver's latency.
      this.#meter.wrote(stored.time, true);
      await tally.commit(webhook.id, { delivered: 1 }, { ref, outcome: "delivered", deliveryCount: attempt }, () => msg.ack());
      return this.#settled(msg, ref);
    }
    const failed = { failedAttempts: 1, lastError: { at, message: outcome.error } };
    if (outcome.gone) {
      await tally.commit(webhook.id, failed);
      // Left unsettled: resuming the webhook remakes its consumer, which sends it first. (A NAK
      // would hand it straight back to this worker's pull, which is stopping.)
      this.#stopping.abort();
      await deps.disable(webhook.id, `the receiver answered 410 Gone for offset ${stored.offset}`);
      return;
    }
    const scheduled = retryDelayMs(webhook, attempt);
    if (scheduled !== undefined) {
      await tally.returned(webhook.id, failed, { ref, outcome: "returned", deliveryCount: attempt });
      // Retry-After, when the receiver gives one, replaces the schedule's delay, not its length.
      msg.nak(outcome.retryAfterMs ?? scheduled);
      return;
    }
    await deps.logs.recordDeadLetter(webhook.id, {
      offset: stored.offset,
      eventId: stored.id,
      attempts: attempt,
      at,
      lastError: outcome.error,
    });
    deps.metrics.webhooks.deadLettered();
    // Settled as dead: delivery goes on with the next event.
    await tally.commit(webhook.id, { ...failed, deadLetters: 1 }, { ref, outcome: "dead", deliveryCount: attempt }, () => msg.term());
    this.#settled(msg, ref);
  }

  /** Runs `settle` (if not done yet) and forgets any record of the event having been given back. */
  #settled(msg: JsMsg, ref: string, settle?: () => void): void {
    settle?.();
    // Only a redelivered event can have been given back.
    if (msg.info.deliveryCount > 1) this.deps.logs.tally.settledAfterReturn(this.webhook.id, ref);
  }
}
