import { DeliverPolicy, type Consumer, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { StreamState } from "../backbone/stream-state.js";
import { ConsumerNotFoundError, isBackboneUnavailable } from "../backbone/errors.js";
import { eventsWithin, meanEventBytes, READ_EXPIRES_MS, toStoredEvent } from "../backbone/reader.js";
import { readStreamState } from "../backbone/stream-state.js";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { GapNotice } from "@streamgate/protocol/position";
import type { Schemas } from "../schema/registry.js";
import { gapBefore } from "./gap.js";
import { EncodedEvent, type EventFilter } from "./encoded-event.js";
import type { StreamFeed } from "./feed.js";
import { STOPPED, Wakeup } from "./wakeup.js";

/**
 * An event, or a gap notice. A `live` event was taken from the feed's window (stored while this
 * gateway read the stream live); the others were read back from JetStream.
 */
export type ReadItem = { kind: "event"; event: EncodedEvent; live: boolean } | { kind: "gap"; gap: GapNotice };

export interface ReaderContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  schemas: Schemas;
  feed: StreamFeed;
  /** The single filter subject JetStream applies during catch-up. */
  filterSubject: string;
  /** Told when the reader closes: one function for every reader, not a closure of each. */
  onClose?: (reader: Reader) => void;
}

/**
 * Bounds one fetch of a catching-up reader: at most 256 events and, judging by the events
 * fetched before, about 2 MiB. The next is fetched once half of one is read, so a reader holds
 * at most one and a half ahead of its client. A count, because a fetch bounded by bytes (nats.js
 * allows one or the other) trickles while publishes flow.
 */
const CATCH_UP_BATCH = 256;
const CATCH_UP_BYTES = 2 * 1024 * 1024;

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
  /** Every wait of this reader: feed changes, close() and the caller's signals end it. Made at the first wait. */
  #waits: Wakeup | undefined;

  get #wakeup(): Wakeup {
    return (this.#waits ??= new Wakeup());
  }

  /** The stream as the read began, until a first catch-up has used it instead of reading it again. */
  #opened: StreamState | undefined;
  /** The stream's last offset when the read began: a reader below it is never at the live edge, even while the feed lags. */
  private readonly storedUpTo: number;

  constructor(
    private readonly ctx: ReaderContext,
    startOffset: number,
    private readonly filter: EventFilter,
    opened: StreamState,
    initialGap?: GapNotice,
  ) {
    this.#cursor = startOffset;
    this.#opened = opened;
    this.storedUpTo = opened.lastOffset;
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
   *
   * The reader listens to both signals itself (never to a signal composed of them) and keeps
   * listening across calls until close(): a caller that waits many times passes the same
   * signals each time at no cost.
   */
  async next(options: { wait: boolean | AbortSignal; signal?: AbortSignal }): Promise<ReadItem | undefined> {
    const { feed } = this.ctx;
    const { wait, signal } = options;
    this.#wakeup.watch([signal, typeof wait === "boolean" ? undefined : wait]);
    const stopped = () => this.#closed || signal?.aborted === true;
    const liveWaitOver = () => stopped() || wait === false || (wait !== true && wait.aborted);
    for (;;) {
      if (stopped()) return undefined;
      const polled = this.poll();
      if (typeof polled === "object") return polled;
      if (polled === "ended") return undefined;
      if (polled === "read") {
        await this.#read(stopped);
        continue;
      }
      if (this.#cursor <= this.storedUpTo) {
        await feed.waitFor(this.#cursor, this.#wakeup, stopped);
        continue;
      }
      if (liveWaitOver()) return undefined;
      await feed.waitFor(this.#cursor, this.#wakeup, liveWaitOver);
    }
  }

  /**
   * The next item if it can be had at once: a gap notice, an event of the feed's window, or one
   * fetched already. Otherwise what stands in the way: "wait" for the feed (at the live edge, or
   * while the feed lags behind what was stored: onFeedChange says when to poll again), "read"
   * from JetStream (next() does), or "ended" (closed, or the feed ended).
   */
  poll(): ReadItem | "wait" | "read" | "ended" {
    const { feed } = this.ctx;
    for (;;) {
      if (this.#closed) return "ended";
      const gap = this.#gaps.shift();
      if (gap) return { kind: "gap", gap };

      const catchUp = this.#catchUp;
      if (catchUp) {
        const item = catchUp.take(this.#cursor);
        if (item === "fetch") return "read";
        if (item === "done") {
          this.#cursor = Math.max(this.#cursor, catchUp.target);
          catchUp.close();
          this.#catchUp = undefined;
          continue;
        }
        if ("requested" in item) {
          this.#cursor = item.first;
          return { kind: "gap", gap: item };
        }
        this.#cursor = item.offset + 1;
        if (item.matches(this.filter)) return { kind: "event", event: item, live: false };
        continue;
      }

      if (this.#cursor < feed.firstOffset) return "read";
      const event = feed.get(this.#cursor);
      if (event) {
        this.#cursor++;
        if (event.matches(this.filter)) return { kind: "event", event, live: true };
        continue;
      }
      return feed.closed ? "ended" : "wait";
    }
  }

  /**
   * Calls listener once, when poll() may have something new after it answered "wait": the feed
   * changed, or the reader was closed.
   */
  onFeedChange(listener: () => void): void {
    this.#offFeedChange();
    if (this.#closed) return listener();
    this.#feedListener = listener;
    this.ctx.feed.onChange(this.#feedChanged);
  }

  #feedListener: (() => void) | undefined;
  readonly #feedChanged = (): void => {
    const listener = this.#feedListener;
    this.#feedListener = undefined;
    listener?.();
  };

  #offFeedChange(): void {
    if (this.#feedListener) this.ctx.feed.offChange(this.#feedChanged);
    this.#feedListener = undefined;
  }

  /** What poll() answered "read" for: a catch-up to open, or its next batch to fetch. */
  async #read(stopped: () => boolean): Promise<void> {
    if (this.#catchUp) await this.#catchUp.fill(this.#wakeup, stopped);
    else await this.#startCatchUp();
  }

  /** Behind the feed's window: reading JetStream (or about to) to reach it. */
  get catchingUp(): boolean {
    return this.#catchUp !== undefined || this.#cursor < this.ctx.feed.firstOffset;
  }

  /** Ends a wait in progress (next() answers undefined) and lets go of the caller's signals. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ctx.onClose?.(this);
    this.#catchUp?.close();
    this.#catchUp = undefined;
    this.#waits?.dispose();
    // A pump waiting on the feed is told at once, and finds the reader closed.
    const listener = this.#feedListener;
    this.#offFeedChange();
    listener?.();
  }

  async #startCatchUp(): Promise<void> {
    const { jsm, feed } = this.ctx;
    const state = this.#opened ?? (await readStreamState(jsm, feed.stream));
    this.#opened = undefined;
    if (this.#cursor < state.firstOffset) {
      this.#gaps.push({ stream: feed.stream, requested: this.#cursor, first: state.firstOffset, epoch: state.epoch });
      this.#cursor = state.firstOffset;
    }
    // Everything below the window's start existed before this moment, so reading up to it
    // from JetStream and then joining the window leaves no hole.
    const target = feed.firstOffset;
    if (this.#cursor >= target) return;
    const catchUp = await CatchUp.open(this.ctx, this.#cursor, target, state);
    // Closed while the consumer was being made: nobody else would delete it.
    if (this.#closed) catchUp.close();
    else this.#catchUp = catchUp;
  }
}

/**
 * An ordered consumer from the reader's cursor up to (not including) target, read in fetched
 * batches. JetStream skips offsets it no longer holds without a word, so when a batch skips
 * offsets the stream's first offset is read once, after the batch arrived: whatever removal made
 * the server skip happened before it served the batch, so it shows. (A filtered read skips
 * offsets anyway; for it a removal below the skip is reported even when none of the removed
 * events matched: a needless notice beats a silent loss.)
 */
class CatchUp {
  /** Fetched messages; those from #taken on are still to be read. */
  #batch: JsMsg[] = [];
  #taken = 0;
  #fetching: Promise<void> | undefined;
  #done: boolean;
  /** The stream as it stood when a skipping batch was last checked. */
  #checked: Pick<StreamState, "name" | "firstOffset" | "epoch"> = { name: "", firstOffset: 0, epoch: "" };
  #nextExpected: number;
  /** The mean size of the events fetched last, which sizes the next fetch. */
  #eventBytes: number;

  private constructor(
    readonly target: number,
    private readonly ctx: ReaderContext,
    private readonly consumer: Consumer,
    from: number,
    nothingPending: boolean,
    eventBytes: number,
  ) {
    this.#nextExpected = from;
    this.#done = nothingPending;
    this.#eventBytes = eventBytes;
  }

  static async open(ctx: ReaderContext, from: number, target: number, state: StreamState): Promise<CatchUp> {
    const consumer = await ctx.js.consumers.get(ctx.feed.stream, {
      filter_subjects: ctx.filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const info = await consumer.info(true);
    // Sized from the stream's mean event until real ones are seen.
    return new CatchUp(target, ctx, consumer, from, info.num_pending === 0, meanEventBytes(state));
  }

  /**
   * The next event below target, a gap notice when offsets from `cursor` on were removed, or
   * "done" once JetStream holds no more matching events below target; "fetch" when the next
   * batch must be fetched first (fill()).
   */
  take(cursor: number): EncodedEvent | GapNotice | "done" | "fetch" {
    if (this.#taken === this.#batch.length) return this.#done ? "done" : "fetch";
    // Where this read goes on: the next message, or the live window when none is left below it.
    const msg = this.#batch[this.#taken];
    const next = Math.min(msg?.seq ?? this.target, this.target);
    const gap = gapBefore(cursor, next, this.#checked);
    if (gap) return gap;
    if (!msg || msg.seq >= this.target) {
      this.#done = true;
      this.#batch = [];
      this.#taken = 0;
      return "done";
    }
    this.#taken++;
    if (this.#isLastBelowTarget(msg)) this.#done = true;
    else this.#prefetch();
    return new EncodedEvent(toStoredEvent(this.ctx.feed.stream, msg), this.ctx.schemas);
  }

  /**
   * Once half the batch is read, the next one is fetched while the client takes the rest, so a
   * replay does not stop for a round trip every batch. A failed prefetch is forgotten: the fetch
   * the reader then waits for fails the same way, or succeeds.
   */
  #prefetch(): void {
    if (this.#done || this.#fetching) return;
    const left = this.#batch.length - this.#taken;
    const last = this.#batch.at(-1);
    if (left > this.#batch.length / 2 || (last && this.#isLastBelowTarget(last))) return;
    this.#fetching = this.#fetch().finally(() => (this.#fetching = undefined));
    this.#fetching.catch(() => undefined);
  }

  /** Fetches the next batch; false when stop() held first (the fetch goes on, for the next call). */
  async fill(wakeup: Wakeup, stop: () => boolean): Promise<boolean> {
    // A fetch given up on goes on: the next call takes its batch rather than pull beside it.
    this.#fetching ??= this.#fetch().finally(() => (this.#fetching = undefined));
    return (await wakeup.until(this.#fetching, stop)) !== STOPPED;
  }

  async #fetch(): Promise<void> {
    const batchSize = eventsWithin(CATCH_UP_BYTES, this.#eventBytes, CATCH_UP_BATCH);
    const messages = await this.#pull(batchSize);
    const batch: JsMsg[] = [];
    for await (const msg of messages) {
      batch.push(msg);
      if (this.#isLastBelowTarget(msg)) break;
    }
    this.#batch = this.#batch.slice(this.#taken).concat(batch);
    this.#taken = 0;
    if (batch.length > 0) this.#eventBytes = Math.max(1, batch.reduce((sum, m) => sum + m.data.byteLength, 0) / batch.length);
    // A batch that holds every offset from the last one on needs no look at the stream.
    const contiguous =
      batch.length > 0 && batch[0]!.seq === this.#nextExpected && batch.every((m, i) => i === 0 || m.seq === batch[i - 1]!.seq + 1);
    if (!contiguous) {
      this.#checked = await readStreamState(this.ctx.jsm, this.ctx.feed.stream);
    }
    if (batch.length > 0) this.#nextExpected = batch.at(-1)!.seq + 1;
  }

  /**
   * Whether no matching event below target can follow msg: none was stored after it when it
   * was sent, or it is the last offset below target. Not the count alone: nats-server 2.9
   * still counts purged events in it, and a fetch waiting for those ran out only after
   * READ_EXPIRES_MS.
   */
  #isLastBelowTarget(msg: JsMsg): boolean {
    return msg.info.pending === 0 || msg.seq >= this.target - 1;
  }

  /**
   * One pull. A consumer the server removed (idle past its inactive threshold while a slow
   * client held a batch) is remade by nats.js from its cursor on the next pull: one retry.
   */
  async #pull(batchSize: number) {
    const pull = () => this.consumer.fetch({ max_messages: batchSize, expires: READ_EXPIRES_MS });
    try {
      return await pull();
    } catch (err) {
      if (!(err instanceof ConsumerNotFoundError) && !isBackboneUnavailable(err)) throw err;
      return pull();
    }
  }

  close(): void {
    this.#done = true;
    this.#batch = [];
    this.#taken = 0;
    void this.consumer.delete().catch(() => undefined);
  }
}
