import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { readStreamState } from "../backbone/stream-state.js";
import { filterSubject } from "../backbone/subjects.js";
import { keyProblem } from "../backbone/stored-event.js";
import { InvalidPositionError, positionFromFields, type GapNotice, type Position, type PositionFields } from "@streamgate/protocol/position";
import { ApiError } from "@streamgate/protocol/errors";
import { resolveStartOffset } from "../backbone/start-offset.js";
import type { Schemas } from "../schema/registry.js";
import type { WebhookLogs } from "./logs.js";
import type { SeenGap } from "./tally.js";
import type { WebhookCounts } from "./tally.js";
import { sharedConsumerConfig } from "./consumer-config.js";
import { REDELIVER, redeliverSubject } from "./logs.js";
import type { NetworkPolicy } from "../net/network-policy.js";
import {
  DEFAULT_RETRY_SCHEDULE,
  newSecret,
  newWebhookId,
  ROTATION_OVERLAP_MS,
  type Webhook,
} from "./registration.js";
import type { z } from "zod";
import type { createWebhookInput, patchWebhookInput } from "./registration.js";

export class WebhookError extends ApiError {
  constructor(code: "invalid_argument" | "not_found", message: string) {
    super(code, message);
    this.name = "WebhookError";
  }
}

/** A webhook as the API shows it: never its secrets, and its custom headers by name only (they often carry credentials). */
export interface WebhookView extends Omit<Webhook, "secrets" | "generation" | "headers"> {
  headers: string[];
  /** The next offset to deliver. */
  position: number;
  lastError?: { at: string; message: string };
  /** The last time retention had removed events before the webhook delivered them. */
  lastGap?: SeenGap;
  counts: Omit<WebhookCounts, "lastError" | "lastGap">;
}

/** A create or replay answer: the gap notice when the position asked for is no longer held. */
export type StartedWebhookView = WebhookView & { gap?: GapNotice };

/**
 * Registrations (a KV bucket) and the durable consumer each webhook delivers from. Any number
 * of gateways share them; what one changes, the others' dispatchers see through the bucket.
 */
export class WebhookService {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly registrations: KV,
    private readonly logs: WebhookLogs,
    private readonly schemas: Schemas,
    private readonly policy: NetworkPolicy,
  ) {}

  async create(input: z.infer<typeof createWebhookInput>): Promise<StartedWebhookView & { secret: string }> {
    const stream = this.#stream(input.stream);
    await this.policy.checkUrl(input.url);
    this.#checkFilters(input.stream, input.types, input.key);
    const now = new Date().toISOString();
    const webhook: Webhook = {
      id: newWebhookId(),
      url: input.url,
      stream,
      ...(input.types && { types: input.types }),
      ...(input.key !== undefined && { key: input.key }),
      ...(input.description !== undefined && { description: input.description }),
      headers: input.headers ?? {},
      format: input.format ?? "envelope",
      maxInFlight: input.maxInFlight ?? 1,
      retrySchedule: input.retrySchedule ?? DEFAULT_RETRY_SCHEDULE,
      timeoutMs: input.timeoutMs ?? 10_000,
      status: input.paused ? "paused" : "active",
      secrets: [{ secret: input.secret ?? newSecret() }],
      createdAt: now,
      updatedAt: now,
      generation: 1,
    };
    const { startOffset, gap } = await this.#startOffset(stream, input);
    await this.#createConsumers(webhook, startOffset);
    // Logged before the worker can start, so the log shows the gap before the first attempt.
    if (gap) await this.logs.recordGap(webhook.id, gap);
    // Seen before the worker starts: the position is where delivery starts.
    const view = await this.#view(webhook);
    await this.registrations.create(webhook.id, JSON.stringify(webhook));
    return { ...view, ...(gap && { gap }), secret: webhook.secrets[0]!.secret };
  }

  async list(): Promise<WebhookView[]> {
    const views: WebhookView[] = [];
    for await (const key of await this.registrations.keys()) {
      const webhook = await this.find(key);
      if (webhook) views.push(await this.#view(webhook));
    }
    return views.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async get(id: string): Promise<WebhookView> {
    return this.#view(await this.#require(id));
  }

  async find(id: string): Promise<Webhook | undefined> {
    if (!/^wh_[0-9a-f]{24}$/.test(id)) return undefined;
    const entry = await this.registrations.get(id);
    return entry && entry.operation === "PUT" ? entry.json<Webhook>() : undefined;
  }

  async patch(id: string, input: z.infer<typeof patchWebhookInput>): Promise<WebhookView> {
    const webhook = await this.#require(id);
    if (input.url !== undefined) await this.policy.checkUrl(input.url);
    const types = input.types === null ? undefined : (input.types ?? webhook.types);
    const key = input.key === null ? undefined : (input.key ?? webhook.key);
    this.#checkFilters(webhook.stream, types, key);
    // Filters and maxInFlight live in the consumer: it is made again.
    const remake = (w: Pick<Webhook, "types" | "key" | "maxInFlight">) => JSON.stringify([w.types, w.key, w.maxInFlight]);
    const next: Webhook = {
      ...webhook,
      ...(input.url !== undefined && { url: input.url }),
      ...(input.description !== undefined && { description: input.description }),
      ...(input.headers !== undefined && { headers: input.headers }),
      ...(input.format !== undefined && { format: input.format }),
      ...(input.maxInFlight !== undefined && { maxInFlight: input.maxInFlight }),
      ...(input.retrySchedule !== undefined && { retrySchedule: input.retrySchedule }),
      ...(input.timeoutMs !== undefined && { timeoutMs: input.timeoutMs }),
      updatedAt: new Date().toISOString(),
    };
    delete next.types;
    delete next.key;
    if (types) next.types = types;
    if (key !== undefined) next.key = key;
    if (input.paused !== undefined) {
      next.status = input.paused ? "paused" : "active";
      if (!input.paused) delete next.disabledReason;
    }
    // A webhook disabled by a 410 left its event unsettled: made again where delivery stood,
    // the consumer sends it at once, and once.
    const resumed = webhook.status === "disabled" && next.status === "active";
    if (resumed || remake(next) !== remake({ ...webhook, types: webhook.types, key: webhook.key })) {
      await this.#recreateConsumer(next, await this.#position(webhook));
      next.generation++;
    }
    await this.#save(next);
    return this.#view(next);
  }

  async delete(id: string): Promise<void> {
    const webhook = await this.#require(id);
    await this.registrations.delete(id);
    await this.jsm.consumers.delete(webhook.stream, id).catch(() => undefined);
    await this.jsm.consumers.delete(REDELIVER, id).catch(() => undefined);
    await this.logs.forget(id);
  }

  async replay(id: string, position: PositionFields): Promise<StartedWebhookView> {
    const webhook = await this.#require(id);
    const { startOffset, gap } = await this.#startOffset(webhook.stream, position);
    await this.#recreateConsumer(webhook, startOffset);
    if (gap) await this.logs.recordGap(webhook.id, gap);
    const next = { ...webhook, generation: webhook.generation + 1, updatedAt: new Date().toISOString() };
    const view = await this.#view(next);
    await this.#save(next);
    return { ...view, ...(gap && { gap }) };
  }

  async rotateSecret(id: string): Promise<WebhookView & { secret: string }> {
    const webhook = await this.#require(id);
    const now = Date.now();
    const expiresAt = new Date(now + ROTATION_OVERLAP_MS).toISOString();
    const secret = newSecret();
    const kept = webhook.secrets
      .filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now)
      .map((s) => ({ secret: s.secret, expiresAt: s.expiresAt ?? expiresAt }));
    const next = { ...webhook, secrets: [{ secret }, ...kept], updatedAt: new Date(now).toISOString() };
    await this.#save(next);
    return { ...(await this.#view(next)), secret };
  }

  async attempts(id: string, limit: number) {
    return this.logs.attempts((await this.#require(id)).id, limit);
  }

  async deadLetters(id: string, limit: number) {
    return this.logs.deadLetters((await this.#require(id)).id, limit);
  }

  async redeliver(id: string): Promise<number> {
    return this.logs.redeliverDeadLetters((await this.#require(id)).id);
  }

  /** Marks a webhook disabled (its receiver answered 410); delivery stops until it is resumed. */
  async disable(id: string, reason: string): Promise<void> {
    const webhook = await this.find(id);
    if (!webhook || webhook.status === "disabled") return;
    await this.#save({ ...webhook, status: "disabled", disabledReason: reason, updatedAt: new Date().toISOString() });
  }

  async #view(webhook: Webhook): Promise<WebhookView> {
    const { secrets: _secrets, generation: _generation, headers, ...shown } = webhook;
    const { lastError, lastGap, ...counts } = await this.logs.tally.counts(webhook.id);
    return { ...shown, headers: Object.keys(headers), position: await this.#position(webhook), ...(lastError && { lastError }), ...(lastGap && { lastGap }), counts };
  }

  /** The first offset not yet settled (delivered or dead-lettered). */
  async #position(webhook: Webhook): Promise<number> {
    const info = await this.jsm.consumers.info(webhook.stream, webhook.id);
    // Nothing settled yet reads as an ack floor of 0: never report less than where it started.
    const settled = Math.max(info.ack_floor.stream_seq + 1, info.config.opt_start_seq ?? 1);
    return info.num_ack_pending > 0 ? settled : Math.max(info.delivered.stream_seq + 1, settled);
  }

  async #createConsumers(webhook: Webhook, startOffset: number): Promise<void> {
    const common = sharedConsumerConfig(webhook);
    await this.jsm.consumers.add(webhook.stream, {
      ...common,
      filter_subject: filterSubject(webhook.stream, { types: webhook.types, key: webhook.key }),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startOffset,
    });
    await this.jsm.consumers.add(REDELIVER, {
      ...common,
      filter_subject: redeliverSubject(webhook.id),
      deliver_policy: DeliverPolicy.All,
    });
  }

  async #recreateConsumer(webhook: Webhook, startOffset: number): Promise<void> {
    await this.jsm.consumers.delete(webhook.stream, webhook.id).catch(() => undefined);
    await this.jsm.consumers.delete(REDELIVER, webhook.id).catch(() => undefined);
    await this.#createConsumers(webhook, startOffset);
  }

  async #startOffset(stream: string, fields: PositionFields): Promise<{ startOffset: number; gap?: GapNotice }> {
    const state = await readStreamState(this.jsm, stream);
    let position: Position;
    try {
      position = positionFromFields(fields);
    } catch (err) {
      throw err instanceof InvalidPositionError ? err.withRange(state) : err;
    }
    return resolveStartOffset(this.js, position, state);
  }

  #stream(name: string): string {
    if (!this.schemas.streams.has(name)) throw new WebhookError("not_found", `stream "${name}" is not declared in the gateway's schemas`);
    return name;
  }

  #checkFilters(streamName: string, types: readonly string[] | undefined, key: string | undefined): void {
    const stream = this.schemas.streams.get(streamName)!;
    const known = new Set(stream.events.map((e) => e.type));
    const unknown = types?.find((t) => !known.has(t));
    if (unknown) throw new WebhookError("invalid_argument", `stream ${streamName} has no event type "${unknown}"`);
    const problem = key === undefined ? undefined : key === "" ? "the key is empty" : keyProblem(key);
    if (problem) throw new WebhookError("invalid_argument", `key: ${problem}`);
  }

  async #require(id: string): Promise<Webhook> {
    const webhook = await this.find(id);
    if (!webhook) throw new WebhookError("not_found", `no webhook "${id}"`);
    return webhook;
  }

  async #save(webhook: Webhook): Promise<void> {
    await this.registrations.put(webhook.id, JSON.stringify(webhook));
  }
}
