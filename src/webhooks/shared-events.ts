import type { JsMsg } from "@nats-io/jetstream";
import { toStoredEvent } from "../backbone/reader.js";
import { EncodedEvent } from "../fanout/encoded-event.js";
import type { Schemas } from "../schema/registry.js";
import { WebhookEvent } from "./payload.js";

/** About 8k events of 128 bytes: room for every webhook of a stream to be a few thousand events apart and still share. */
const DEFAULT_BUDGET_BYTES = 8 * 1024 * 1024;

/**
 * The events webhook workers take from their streams, decoded and encoded once for all the
 * webhooks of a stream: each has its own durable consumer, so each receives its own copy of
 * the message, but the copies of one offset are one event. The most recently first-seen events
 * are kept, up to a memory budget; a webhook too far behind the rest makes its own.
 */
export class SharedEvents {
  /** By stream and offset, oldest first (a Map keeps insertion order). */
  readonly #events = new Map<string, { storedAt: bigint; event: WebhookEvent }>();
  #bytes = 0;

  constructor(
    private readonly schemas: Schemas,
    private readonly budgetBytes = DEFAULT_BUDGET_BYTES,
  ) {}

  /** The event `msg` of `stream` carries, shared with every other worker that took the same one. */
  of(stream: string, msg: JsMsg): WebhookEvent {
    const key = `${msg.seq} ${stream}`;
    // A stream deleted and made again reuses offsets: its messages are told apart by when they were stored.
    const storedAt = msg.timestampNanos;
    const kept = this.#events.get(key);
    if (kept?.storedAt === storedAt) return kept.event;
    if (kept) this.#forget(key, kept.event);
    const event = new WebhookEvent(new EncodedEvent(toStoredEvent(stream, msg), this.schemas));
    this.#events.set(key, { storedAt, event });
    this.#bytes += event.encoded.size;
    for (const [oldest, { event: evicted }] of this.#events) {
      if (this.#bytes <= this.budgetBytes) break;
      this.#forget(oldest, evicted);
    }
    return event;
  }

  #forget(key: string, event: WebhookEvent): void {
    this.#events.delete(key);
    this.#bytes -= event.encoded.size;
  }
}
