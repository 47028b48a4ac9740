import type { JetStreamClient } from "@nats-io/jetstream";
import { readStoredEvents } from "../backbone/reader.js";
import { filterSubject } from "../backbone/subjects.js";
import type { Schemas } from "../schema/registry.js";
import { EncodedEvent } from "./encoded-event.js";

export interface FeedLimits {
  /** Most events kept for readers at or near the live edge. */
  maxEvents: number;
  /** Most bytes kept; whichever limit is hit first evicts the oldest. */
  maxBytes: number;
}

export const DEFAULT_FEED_LIMITS: FeedLimits = { maxEvents: 4096, maxBytes: 16 * 1024 * 1024 };

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
  #changed = deferred();
  readonly #abort = new AbortController();

  constructor(
    readonly stream: string,
    startOffset: number,
    private readonly limits: FeedLimits = DEFAULT_FEED_LIMITS,
  ) {
    this.#firstOffset = startOffset;
  }

  /** Reads the stream live from startOffset until close(). */
  start(js: JetStreamClient, schemas: Schemas, onError: (err: unknown) => void): void {
    void (async () => {
      const events = readStoredEvents(js, {
        stream: this.stream,
        startOffset: this.#firstOffset,
        filterSubject: filterSubject(this.stream, {}),
        signal: this.#abort.signal,
      });
      for await (const stored of events) this.#append(new EncodedEvent(stored, schemas));
    })().catch((err: unknown) => {
      if (!this.#abort.signal.aborted) onError(err);
    });
  }

  get firstOffset(): number {
    return this.#firstOffset;
  }

  get lastOffset(): number {
    return this.#firstOffset + (this.#window.length - this.#head) - 1;
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** The event at offset, if the window holds it. */
  get(offset: number): EncodedEvent | undefined {
    if (offset < this.#firstOffset || offset > this.lastOffset) return undefined;
    return this.#window[this.#head + offset - this.#firstOffset];
  }

  /** Resolves once lastOffset >= offset, the feed closes, or signal aborts. */
  async waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    while (this.lastOffset < offset && !this.closed && !signal?.aborted) {
      await (signal ? raceAbort(this.#changed.promise, signal) : this.#changed.promise);
    }
  }

  close(): void {
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
    const changed = this.#changed;
    this.#changed = deferred();
    changed.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function raceAbort(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    void promise.then(done);
  });
}
