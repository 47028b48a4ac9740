import { DeliverPolicy, RetentionPolicy, type JetStreamClient, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { GapNotice } from "@streamgate/protocol/position";
import { applyStateStream } from "../backbone/state-streams.js";
import { WebhookTally, type SeenGap } from "./tally.js";

/** One HTTP attempt, as GET /v1/webhooks/{id}/attempts shows it. */
export interface AttemptRecord {
  offset: number;
  eventId: string;
  attempt: number;
  at: string;
  durationMs: number;
  status?: number;
  error?: string;
  /** The start of the receiver's answer, at most 1 KiB. */
  response?: string;
}

/** Events retention removed before the webhook delivered them, in the attempts log. */
export type GapEntry = { kind: "gap" } & SeenGap;

/** An entry of GET /v1/webhooks/{id}/attempts. */
export type AttemptsLogEntry = AttemptRecord | GapEntry;

/** An event that ran out of retries. */
export interface DeadLetter {
  offset: number;
  eventId: string;
  attempts: number;
  at: string;
  lastError: string;
}

const ATTEMPTS = "SG_WEBHOOK_ATTEMPTS";
const DEAD = "SG_WEBHOOK_DEAD";
export const REDELIVER = "SG_WEBHOOK_REDELIVER";
const DAY_MS = 86_400_000;

export const attemptsSubject = (id: string) => `streamgate_wh.attempts.${id}`;
export const deadSubject = (id: string) => `streamgate_wh.dead.${id}`;
export const redeliverSubject = (id: string) => `streamgate_wh.redeliver.${id}`;

const STREAMS: (Partial<StreamConfig> & { name: string })[] = [
  // Bounded per webhook: the log shows recent history, not all of it.
  { name: ATTEMPTS, subjects: ["streamgate_wh.attempts.*"], max_msgs_per_subject: 1000, max_age: nanos(7 * DAY_MS) },
  { name: DEAD, subjects: ["streamgate_wh.dead.*"], max_msgs_per_subject: 10_000, max_age: nanos(30 * DAY_MS) },
  { name: REDELIVER, subjects: ["streamgate_wh.redeliver.*"], retention: RetentionPolicy.Workqueue },
];

/** The records webhooks keep in the backbone beside their registrations. */
export class WebhookLogs {
  /** The webhooks' counts, in the stats bucket. */
  readonly tally: WebhookTally;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    stats: KV,
  ) {
    this.tally = new WebhookTally(stats);
  }

  /** The streams the logs are kept in. */
  static readonly streams: readonly string[] = STREAMS.map((config) => config.name);

  /** Creates the log streams, or brings those of an earlier start to `replicas`. */
  static async open(backbone: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }, stats: KV, replicas: number): Promise<WebhookLogs> {
    for (const config of STREAMS) await applyStateStream(backbone.jsm, config, replicas);
    return new WebhookLogs(backbone.nc, backbone.js, backbone.jsm, stats);
  }

  /**
   * A core NATS publish, which the attempts stream stores without an acknowledgement: no
   * round trip, timer or reply subscription per delivery, and a lost log line (the backbone
   * away at that moment) never holds up delivery. Gaps and dead letters, which must not be
   * lost, are acknowledged publishes; counts are the tally's.
   */
  recordAttempt(webhookId: string, record: AttemptRecord): void {
    this.nc.publish(attemptsSubject(webhookId), JSON.stringify(record));
  }

  /** Awaited, unlike an attempt: a gap whose record is lost would be a silent skip. */
  async recordGap(webhookId: string, gap: GapNotice): Promise<void> {
    const seen = { ...gap, at: new Date().toISOString() };
    await this.tally.commit(webhookId, { lastGap: seen });
    const entry: GapEntry = { kind: "gap", ...seen };
    await this.js.publish(attemptsSubject(webhookId), JSON.stringify(entry));
  }

  async recordDeadLetter(webhookId: string, letter: DeadLetter): Promise<void> {
    await this.js.publish(deadSubject(webhookId), JSON.stringify(letter));
  }

  /** Newest first. */
  async attempts(webhookId: string, limit: number): Promise<AttemptsLogEntry[]> {
    return (await this.#readAll<AttemptsLogEntry>(ATTEMPTS, attemptsSubject(webhookId))).map((r) => r.value).reverse().slice(0, limit);
  }

  /** Newest first. */
  async deadLetters(webhookId: string, limit: number): Promise<DeadLetter[]> {
    return (await this.#readAll<DeadLetter>(DEAD, deadSubject(webhookId))).map((r) => r.value).reverse().slice(0, limit);
  }

  /** Queues every dead letter of the webhook for delivery again, and clears them. */
  async redeliverDeadLetters(webhookId: string): Promise<number> {
    const letters = await this.#readAll<DeadLetter>(DEAD, deadSubject(webhookId));
    for (const { value } of letters) {
      await this.js.publish(redeliverSubject(webhookId), JSON.stringify({ offset: value.offset, eventId: value.eventId }));
    }
    const last = letters.at(-1);
    // Only what was read: a letter written meanwhile stays for the next redeliver.
    if (last) await this.jsm.streams.purge(DEAD, { filter: deadSubject(webhookId), seq: last.seq + 1 });
    return letters.length;
  }

  /** Removes everything kept for a deleted webhook. */
  async forget(webhookId: string): Promise<void> {
    for (const [stream, subject] of [
      [ATTEMPTS, attemptsSubject(webhookId)],
      [DEAD, deadSubject(webhookId)],
      [REDELIVER, redeliverSubject(webhookId)],
    ] as const) {
      await this.jsm.streams.purge(stream, { filter: subject });
    }
    await this.tally.forget(webhookId);
  }

  /** Every record on one subject, oldest first (the streams bound how many there are). */
  async #readAll<T>(stream: string, subject: string): Promise<{ seq: number; value: T }[]> {
    const info = await this.jsm.streams.info(stream, { subjects_filter: subject });
    if (!info.state.subjects?.[subject]) return [];
    const consumer = await this.js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const out: { seq: number; value: T }[] = [];
    try {
      const total = (await consumer.info(true)).num_pending;
      if (total === 0) return out;
      const messages = await consumer.consume({ max_messages: 1000 });
      for await (const msg of messages) {
        out.push({ seq: msg.seq, value: msg.json<T>() });
        if (msg.info.pending === 0) break;
      }
      return out;
    } finally {
      void consumer.delete().catch(() => undefined);
    }
  }
}
