import { randomBytes } from "node:crypto";
import type { KV } from "@nats-io/kv";
import type { GapNotice } from "@streamgate/protocol/position";

/** A gap notice and when the webhook met it. */
export type SeenGap = GapNotice & { at: string };

export interface WebhookCounts {
  /** Events whose attempt the receiver answered with a 2xx. */
  delivered: number;
  failedAttempts: number;
  deadLetters: number;
  /** Events handed again to a gateway after their holder went silent mid-delivery: the receiver may have them twice. */
  duplicates: number;
  lastError?: { at: string; message: string };
  lastGap?: SeenGap;
}

/** An addition to a webhook's counts. */
export type CountsChange = Partial<Omit<WebhookCounts, "lastError" | "lastGap">> & Pick<WebhookCounts, "lastError" | "lastGap">;

/**
 * One handing-out of one event, as the gateway holding it ended it: delivered and dead settle the
 * event; returned gives it back to JetStream (a retry, or a gateway stopping) for another delivery.
 */
export interface Settlement {
  /** `<generation>.<events|redeliver>.<sequence>`: the event in one of the webhook's consumers. */
  ref: string;
  outcome: "delivered" | "dead" | "returned";
  deliveryCount: number;
}

/** What one gateway stored for one webhook: its counts, and what its latest commit settled. */
interface GatewayTally extends WebhookCounts {
  settled: Settlement[];
}

const COUNTED = ["delivered", "failedAttempts", "deadLetters", "duplicates"] as const;
const zero = (): WebhookCounts => ({ delivered: 0, failedAttempts: 0, deadLetters: 0, duplicates: 0 });
const newest = <T extends { at: string }>(a: T | undefined, b: T | undefined): T | undefined => (!a || (b && b.at > a.at) ? b : a);

function plus(counts: WebhookCounts, change: CountsChange): WebhookCounts {
  const sum: WebhookCounts = { ...counts };
  for (const name of COUNTED) sum[name] += change[name] ?? 0;
  const lastError = newest(counts.lastError, change.lastError);
  const lastGap = newest(counts.lastGap, change.lastGap);
  return { ...sum, ...(lastError && { lastError }), ...(lastGap && { lastGap }) };
}

interface Queued {
  change: CountsChange;
  settlement?: Settlement;
  settle?: () => void;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * This gateway's counts of one webhook, in one key of the stats bucket. Commits are grouped: while
 * one is written, the next ones queue and go out together.
 */
class OwnTally {
  #committed = zero();
  #queued: Queued[] = [];
  #writing = false;

  constructor(
    private readonly stats: KV,
    private readonly key: string,
  ) {}

  add(queued: Queued): void {
    this.#queued.push(queued);
    if (!this.#writing) void this.#write();
  }

  async #write(): Promise<void> {
    this.#writing = true;
    while (this.#queued.length > 0) {
      const batch = this.#queued.splice(0);
      const next = batch.reduce((counts, q) => plus(counts, q.change), this.#committed);
      const stored: GatewayTally = { ...next, settled: batch.flatMap((q) => (q.settlement ? [q.settlement] : [])) };
      try {
        await this.stats.put(this.key, JSON.stringify(stored));
      } catch (err) {
        for (const q of batch) q.reject(err);
        continue;
      }
      this.#committed = next;
      // Before the next commit is written, so the settlements (acks) reach JetStream before
      // the value that forgets them: see WebhookTally.
      for (const q of batch) {
        q.settle?.();
        q.resolve();
      }
    }
    this.#writing = false;
  }
}

/**
 * Webhook counts that a crash cannot falsify. Every outcome is stored before the event is
 * settled in its consumer (acked, termed or nak'd), so JetStream never settles an event whose
 * outcome is not counted. A gateway that dies between its commit and its ack leaves the event
 * pending, and its last commit names it: whoever JetStream hands it to next finds it there and
 * settles it without sending it again or counting it twice (see `prior`). Each gateway writes
 * only its own key, `<webhook>.<gateway>`; returned events also get `<webhook>.returned.<ref>`,
 * which outlives later commits, until the event is settled.
 */
export class WebhookTally {
  readonly #own = new Map<string, OwnTally>();
  readonly #gateway = randomBytes(6).toString("hex");

  constructor(private readonly stats: KV) {}

  /**
   * Stores `change` (and what it settles); then runs `settle`, before any later commit of the
   * webhook is written. Rejects, without running `settle`, if it could not be stored.
   */
  commit(webhookId: string, change: CountsChange, settlement?: Settlement, settle?: () => void): Promise<void> {
    let own = this.#own.get(webhookId);
    if (!own) this.#own.set(webhookId, (own = new OwnTally(this.stats, `${webhookId}.${this.#gateway}`)));
    const tally = own;
    return new Promise((resolve, reject) =>
      tally.add({ change, resolve, reject, ...(settlement && { settlement }), ...(settle && { settle }) }),
    );
  }

  /** Counts `returned` and marks the event as given back at this delivery, until it is settled. */
  async returned(webhookId: string, change: CountsChange, returned: Settlement): Promise<void> {
    await this.commit(webhookId, change, returned);
    await this.stats.put(returnedKey(webhookId, returned.ref), String(returned.deliveryCount));
  }

  /** Forgets that an event was given back, once it is settled; a leftover key only costs space. */
  settledAfterReturn(webhookId: string, ref: string): void {
    void this.stats.purge(returnedKey(webhookId, ref)).catch(() => undefined);
  }

  /**
   * How the delivery before this one (`deliveryCount` - 1) of the event ended: settled (by a
   * gateway that died before JetStream heard), returned, or unknown: its holder went silent, so
   * it may have reached the receiver.
   */
  async prior(webhookId: string, ref: string, deliveryCount: number): Promise<Settlement["outcome"] | undefined> {
    for (const tally of await this.#all(webhookId)) {
      const found = tally.settled?.find((s) => s.ref === ref);
      if (found && (found.outcome !== "returned" || found.deliveryCount === deliveryCount - 1)) return found.outcome;
    }
    const entry = await this.stats.get(returnedKey(webhookId, ref));
    return entry?.operation === "PUT" && Number(entry.string()) === deliveryCount - 1 ? "returned" : undefined;
  }

  /** Counts over every gateway that ever delivered for the webhook. */
  async counts(webhookId: string): Promise<WebhookCounts> {
    return (await this.#all(webhookId)).reduce<WebhookCounts>((total, tally) => plus(total, tally), zero());
  }

  /** Removes everything kept for a deleted webhook. */
  async forget(webhookId: string): Promise<void> {
    this.#own.delete(webhookId);
    for await (const key of await this.stats.keys(`${webhookId}.>`)) await this.stats.purge(key);
  }

  async #all(webhookId: string): Promise<Partial<GatewayTally>[]> {
    const all: Partial<GatewayTally>[] = [];
    for await (const key of await this.stats.keys(`${webhookId}.*`)) {
      const entry = await this.stats.get(key);
      if (entry?.operation === "PUT") all.push(entry.json<Partial<GatewayTally>>());
    }
    return all;
  }
}

const returnedKey = (webhookId: string, ref: string) => `${webhookId}.returned.${ref}`;
