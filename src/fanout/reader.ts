import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { toStoredEvent } from "../backbone/reader.js";
import { readStreamState } from "../backbone/stream-state.js";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { GapNotice } from "../position/position.js";
import type { Schemas } from "../schema/registry.js";
import { EncodedEvent, type EventFilter } from "./encoded-event.js";
import type { StreamFeed } from "./feed.js";

export type ReadItem = { kind: "event"; event: EncodedEvent } | { kind: "gap"; gap: GapNotice };

export interface ReaderContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  schemas: Schemas;
  feed: StreamFeed;
  /** The single filter subject JetStream applies during catch-up. */
  filterSubject: string;
}

/** Bounds what one catching-up reader may have fetched ahead of its client. */
const CATCH_UP_MAX_BYTES = 4 * 1024 * 1024;

/**
 * One client's place in a stream. Its cursor is the next offset it has not examined. Within
 * the feed's window it takes the shared encoded events; behind the window it reads JetStream
 * through a short-lived ordered consumer until it reaches the window; past the live edge it
 * waits. A client that stops pulling holds nothing but its cursor (and at most one catch-up
 * fetch), and when the window moves on without it, it simply catches up again.
 */
export class Reader {
  #cursor: number;
  #gaps: GapNotice[] = [];
  #catchUp?: CatchUp;
  #closed = false;

  /**
   * @param storedUpTo the stream's last offset when the read began: events up to it exist,
   * so a reader below it is never "at the live edge", even while the feed still lags.
   */
  constructor(
    private readonly ctx: ReaderContext,
    startOffset: number,
    private readonly filter: EventFilter,
    private readonly storedUpTo: number,
    initialGap?: GapNotice,
  ) {
    this.#cursor = startOffset;
    if (initialGap) this.#gaps.push(initialGap);
  }

  /** The next offset this reader will examine: `from=` to resume exactly here. */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * The next event or gap notice, or undefined when there is none to give: the reader is at
   * the live edge and `wait` is false or has aborted, or `signal` aborted, or it was closed.
   * `wait` bounds only the waiting for new events; reading stored ones always completes.
   */
  async next(options: { wait: boolean | AbortSignal; signal?: AbortSignal }): Promise<ReadItem | undefined> {
    const { feed } = this.ctx;
    for (;;) {
      if (this.#closed || options.signal?.aborted) return undefined;
      const gap = this.#gaps.shift();
      if (gap) return { kind: "gap", gap };

      if (this.#catchUp) {
        const event = await this.#catchUp.next(options.signal);
        if (event === "aborted") return undefined;
        if (event === "done") {
          this.#cursor = Math.max(this.#cursor, this.#catchUp.target);
          this.#catchUp.close();
          this.#catchUp = undefined;
          continue;
        }
        this.#cursor = event.offset + 1;
        if (event.matches(this.filter)) return { kind: "event", event };
        continue;
      }

      if (this.#cursor < feed.firstOffset) {
        await this.#startCatchUp();
        continue;
      }
      const event = feed.get(this.#cursor);
      if (event) {
        this.#cursor++;
        if (event.matches(this.filter)) return { kind: "event", event };
        continue;
      }
      const { wait, signal } = options;
      if (feed.closed) return undefined;
      if (this.#cursor <= this.storedUpTo) {
        await feed.waitFor(this.#cursor, signal);
        continue;
      }
      if (wait === false || (wait !== true && wait.aborted)) return undefined;
      await feed.waitFor(this.#cursor, wait === true ? signal : anyOf(wait, signal));
    }
  }

  close(): void {
    this.#closed = true;
    this.#catchUp?.close();
    this.#catchUp = undefined;
  }

  async #startCatchUp(): Promise<void> {
    const { js, jsm, feed, schemas } = this.ctx;
    const state = await readStreamState(jsm, feed.stream);
    if (this.#cursor < state.firstOffset) {
      this.#gaps.push({ stream: feed.stream, requested: this.#cursor, first: state.firstOffset, epoch: state.epoch });
      this.#cursor = state.firstOffset;
    }
    // Everything below the window's start existed before this moment, so reading up to it
    // from JetStream and then joining the window leaves no hole.
    const target = feed.firstOffset;
    if (this.#cursor >= target) return;
    this.#catchUp = await CatchUp.open(js, schemas, feed.stream, this.ctx.filterSubject, this.#cursor, target);
  }
}

/** An ordered consumer from the reader's cursor up to (not including) target. */
class CatchUp {
  #done = false;

  private constructor(
    readonly target: number,
    private readonly stream: string,
    private readonly schemas: Schemas,
    private readonly messages: AsyncIterator<JsMsg> & { stop(): void },
    private readonly deleteConsumer: () => Promise<unknown>,
    nothingPending: boolean,
  ) {
    this.#done = nothingPending;
  }

  static async open(
    js: JetStreamClient,
    schemas: Schemas,
    stream: string,
    filterSubject: string,
    from: number,
    target: number,
  ): Promise<CatchUp> {
    const consumer = await js.consumers.get(stream, {
      filter_subjects: filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const info = await consumer.info(true);
    const consume = await consumer.consume({ max_bytes: CATCH_UP_MAX_BYTES, expires: 5_000 });
    const iterator = consume[Symbol.asyncIterator]();
    return new CatchUp(
      target,
      stream,
      schemas,
      Object.assign(iterator, { stop: () => void consume.stop() }),
      () => consumer.delete(),
      info.num_pending === 0,
    );
  }

  /** The next event below target, or "done" once there is none (JetStream said so). */
  async next(signal?: AbortSignal): Promise<EncodedEvent | "done" | "aborted"> {
    if (this.#done) return "done";
    const next = await (signal ? raceAbort(this.messages.next(), signal) : this.messages.next());
    if (next === "aborted") return "aborted";
    if (next.done || next.value.seq >= this.target) {
      this.#done = true;
      return "done";
    }
    const msg = next.value;
    // No more matching events were stored when this one was sent: none lie below target.
    if (msg.info.pending === 0) this.#done = true;
    return new EncodedEvent(toStoredEvent(this.stream, msg), this.schemas);
  }

  close(): void {
    this.#done = true;
    this.messages.stop();
    void this.deleteConsumer().catch(() => undefined);
  }
}

function anyOf(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b ? AbortSignal.any([a, b]) : a;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | "aborted"> {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
