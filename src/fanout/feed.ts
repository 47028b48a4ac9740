import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { StreamNotFoundError } from "../backbone/errors.js";
import { readStreamState, type StreamState } from "../backbone/stream-state.js";
import { meanEventBytes, readStoredEvents } from "../backbone/reader.js";
import { filterSubject } from "../backbone/subjects.js";
import type { Schemas } from "../schema/registry.js";
import { EncodedEvent } from "./encoded-event.js";
import type { Wakeup } from "./wakeup.js";

export interface FeedLimits {
  /** Most events kept for readers at or near the live edge. */
  maxEvents: number;
  /** Most bytes kept; whichever limit is hit first evicts the oldest. */
  maxBytes: number;
}

export const DEFAULT_FEED_LIMITS: FeedLimits = { maxEvents: 4096, maxBytes: 16 * 1024 * 1024 };

/** A stream is re-created in more than this (nats.js needs missed heartbeats to notice). */
const EPOCH_CHECK_MS = 1_000;
const EPOCH_CHECK_IDLE_MS = 5_000;

/**
 * The one live reading of a stream in this process. It keeps the most recent events, encoded
 * once, in a bounded window that every reader near the live edge shares. A reader behind the
 * window reads from JetStream instead (see Reader): the stream is the buffer, not our memory.
 */
export class StreamFeed {
  /** Offsets firstOffset..lastOffset are held, in order, without holes. */
  #window: EncodedEvent[] = [];
  #head = 0;
  #bytes = 0;
  #firstOffset: number;
  /** Called once at the next change (an event appended, or the close), then forgotten. */
  #listeners = new Set<() => void>();
  readonly #abort = new AbortController();

  readonly stream: string;
  /** The stream's generation this feed reads: a re-created stream needs a new feed. */
  readonly epoch: string;
  readonly #meanEventBytes: number;

  /** A feed of the stream from just after where it stood (`opened`). */
  constructor(
    opened: StreamState,
    private readonly limits: FeedLimits = DEFAULT_FEED_LIMITS,
  ) {
    this.stream = opened.name;
    this.epoch = opened.epoch;
    this.#firstOffset = opened.lastOffset + 1;
    this.#meanEventBytes = meanEventBytes(opened);
  }

  /**
   * Reads the stream live from startOffset until close(). A stream deleted and re-created under
   * the feed would hand it the new generation's events as if they followed the old ones (nats.js
   * remakes its consumer from the old cursor), so the feed checks its generation before
   * appending after a quiet second, and every few seconds while idle, and closes when it changed.
   */
  start(js: JetStreamClient, jsm: JetStreamManager, schemas: Schemas, onError: (err: unknown) => void): void {
    let checkedAt = Date.now();
    const sameGeneration = async () => {
      checkedAt = Date.now();
      const state = await readStreamState(jsm, this.stream).catch((err: unknown) =>
        err instanceof StreamNotFoundError ? undefined : "unknown",
      );
      return state === "unknown" || state?.epoch === this.epoch;
    };
    const idleCheck = setInterval(() => {
      if (Date.now() - checkedAt >= EPOCH_CHECK_IDLE_MS) void sameGeneration().then((same) => same || this.close());
    }, EPOCH_CHECK_IDLE_MS);
    idleCheck.unref();
    void (async () => {
      const events = readStoredEvents(js, {
        stream: this.stream,
        startOffset: this.#firstOffset,
        filterSubject: filterSubject(this.stream, {}),
        meanEventBytes: this.#meanEventBytes,
        signal: this.#abort.signal,
      });
      for await (const stored of events) {
        if (Date.now() - checkedAt > EPOCH_CHECK_MS && !(await sameGeneration())) return this.close();
        this.#append(new EncodedEvent(stored, schemas));
      }
    })()
      .catch((err: unknown) => {
        if (!this.#abort.signal.aborted) onError(err);
      })
      .finally(() => clearInterval(idleCheck));
  }

  get firstOffset(): number {
    return this.#firstOffset;
  }

  get lastOffset(): number {
    return this.#firstOffset + (this.#window.length - this.#head) - 1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The abort's state, read by every reader per event without the signal's own checks. */
  #closed = false;

  /** The event at offset, if the window holds it. */
  get(offset: number): EncodedEvent | undefined {
    if (offset < this.#firstOffset || offset > this.lastOffset) return undefined;
    return this.#window[this.#head + offset - this.#firstOffset];
  }

  /**
   * Resolves once lastOffset >= offset, the feed closes, or stop() holds when the wakeup is
   * woken (by this feed or by a signal it watches).
   */
  async waitFor(offset: number, wakeup: Wakeup, stop: () => boolean): Promise<void> {
    while (this.lastOffset < offset && !this.closed && !stop()) {
      this.onChange(wakeup.wake);
      await wakeup.next();
      this.offChange(wakeup.wake);
    }
  }

  /**
   * Calls listener, once, at the next change: an event appended or the close. Synchronous, so a
   * reader at the live edge takes each event without a promise, a timer or a listener per event.
   */
  onChange(listener: () => void): void {
    if (this.closed) listener();
    else this.#listeners.add(listener);
  }

  /** Forgets a listener that no longer waits. */
  offChange(listener: () => void): void {
    this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
    this.#notify();
  }

  #append(event: EncodedEvent): void {
    if (event.offset <= this.lastOffset) return;
    if (event.offset !== this.lastOffset + 1) {
      // Offsets the feed never saw (removed before it read them): the window restarts, and
      // readers below it go to JetStream, which reports the gap.
      this.#window = [];
      this.#head = 0;
      this.#bytes = 0;
      this.#firstOffset = event.offset;
    }
    this.#window.push(event);
    this.#bytes += event.size;
    while (this.#window.length - this.#head > this.limits.maxEvents || this.#bytes > this.limits.maxBytes) {
      const evicted = this.#window[this.#head]!;
      this.#window[this.#head++] = undefined as never;
      this.#bytes -= evicted.size;
      this.#firstOffset++;
      if (this.#head > 1024 && this.#head * 2 > this.#window.length) {
        this.#window = this.#window.slice(this.#head);
        this.#head = 0;
      }
    }
    this.#notify();
  }

  #notify(): void {
    if (this.#listeners.size === 0) return;
    // A listener that waits again joins the next change's set, not this one.
    const listeners = this.#listeners;
    this.#listeners = new Set();
    for (const listener of listeners) listener();
  }
}
