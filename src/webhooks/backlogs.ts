import type { JetStreamManager } from "@nats-io/jetstream";
import type { Webhook } from "./registration.js";

/** Backlogs read this recently are answered as they are: at most one read per webhook per interval, however often the gateway is scraped. */
const FRESH_MS = 1_000;
/** A scrape waits this long for a read; a slower one (the backbone in trouble) goes on for the next scrape. */
const WAIT_MS = 1_000;

/**
 * What each webhook has yet to settle, from its durable consumer: the events waiting (matching
 * its filter) and those handed out but not yet delivered or dead-lettered. One consumer info per
 * webhook per read, all at once, one read at a time.
 */
export class WebhookBacklogs {
  #backlogs: ReadonlyMap<string, number> = new Map();
  #readAt = -Infinity;
  #reading: Promise<void> | undefined;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly webhooks: () => Iterable<Webhook>,
  ) {}

  /** Per webhook id; a webhook whose consumer could not be read is left out. */
  async read(): Promise<ReadonlyMap<string, number>> {
    if (performance.now() - this.#readAt >= FRESH_MS) {
      this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#reading, new Promise((resolve) => (timer = setTimeout(resolve, WAIT_MS)))]);
      clearTimeout(timer);
    }
    return this.#backlogs;
  }

  async #read(): Promise<void> {
    const read = await Promise.all(
      [...this.webhooks()].map(async ({ id, stream }) => {
        try {
          const info = await this.jsm.consumers.info(stream, id);
          return [[id, info.num_pending + info.num_ack_pending] as const];
        } catch {
          // Gone since (deleted), or the backbone is away: no figure rather than a stale one.
          return [];
        }
      }),
    );
    this.#backlogs = new Map(read.flat());
    this.#readAt = performance.now();
  }
}
