import type { KV } from "@nats-io/kv";
import type { FastifyBaseLogger } from "fastify";
import type { Webhook } from "./registration.js";
import { WebhookWorker, type WorkerDeps } from "./worker.js";

/**
 * Keeps one worker per active webhook in this gateway, following the registrations bucket:
 * a change made through any gateway restarts the workers of every gateway.
 */
export class Dispatcher {
  #workers = new Map<string, WebhookWorker>();
  /** Every registration, active or not, as the bucket last said. */
  #registered = new Map<string, Webhook>();
  #watch?: { stop(): void };
  #changes = Promise.resolve();

  constructor(
    private readonly registrations: KV,
    private readonly deps: WorkerDeps,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    const watch = await this.registrations.watch();
    this.#watch = watch;
    void (async () => {
      for await (const entry of watch) {
        const webhook = entry.operation === "PUT" ? entry.json<Webhook>() : undefined;
        if (webhook) this.#registered.set(entry.key, webhook);
        else this.#registered.delete(entry.key);
        // One change at a time, in bucket order, so a worker is never started twice.
        this.#changes = this.#changes.then(() => this.#apply(entry.key, webhook)).catch((err: unknown) => {
          this.log.error({ err, webhook: entry.key }, "could not apply a webhook change");
        });
      }
    })();
  }

  /** Stops every worker after its attempts under way are finished. */
  async stop(): Promise<void> {
    this.#watch?.stop();
    await this.#changes;
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
    this.#workers.clear();
  }

  get workers(): number {
    return this.#workers.size;
  }

  /** Every registered webhook, as this gateway last saw it. */
  registered(): Iterable<Webhook> {
    return this.#registered.values();
  }

  async #apply(id: string, webhook: Webhook | undefined): Promise<void> {
    const current = this.#workers.get(id);
    if (current && webhook && JSON.stringify(current.webhook) === JSON.stringify(webhook)) return;
    if (current) {
      this.#workers.delete(id);
      await current.stop();
    }
    if (webhook?.status !== "active") return;
    const worker = new WebhookWorker(webhook, this.deps);
    this.#workers.set(id, worker);
    worker.start();
  }
}
