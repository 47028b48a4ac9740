/**
 * What the fault suite's readers share: each reads the orders stream through the load balancer,
 * records every event and every answer that was not a plain success, and after any disconnect
 * connects again (anywhere the balancer sends it) resuming right after the last event it got.
 */
import { sleep } from "../support/wait.js";
import type { ReaderKind, ReaderLog, StatusSeen } from "./observations.js";

/** A short fixed pause between connections: a reader's stall should be the gateway's, not its own backoff's. */
const RECONNECT_PAUSE_MS = 200;

/** The part of an event a reader keeps. */
export interface EventSeen {
  offset: number;
  id: string;
}

export abstract class Reader {
  readonly log: ReaderLog;
  /** The offset to resume from. */
  protected next: number;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    protected readonly baseUrl: string,
    kind: ReaderKind,
    name: string,
    from: number,
  ) {
    this.next = from;
    this.log = { name, kind, startedAt: Date.now(), arrivals: [], statuses: [], gaps: 0, reconnects: 0 };
  }

  /** Starts reading in the background. */
  start(): this {
    this.#running = this.#readUntilStopped();
    return this;
  }

  /** Whether it has every offset below `end`. */
  hasUpTo(end: number): boolean {
    return this.next >= end;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** One connection, from `this.next`, until it ends or `signal` aborts it. */
  protected abstract readOnce(signal: AbortSignal): Promise<void>;

  protected received(event: EventSeen): void {
    this.log.arrivals.push({ offset: event.offset, id: event.id, at: Date.now() });
    this.next = Math.max(this.next, event.offset + 1);
  }

  protected saw(status: number, retryAfter: boolean, what: string): void {
    const seen: StatusSeen = { status, retryAfter, at: Date.now(), what: `${this.log.kind}: ${what}` };
    this.log.statuses.push(seen);
  }

  async #readUntilStopped(): Promise<void> {
    const { signal } = this.#stop;
    while (!signal.aborted) {
      try {
        await this.readOnce(signal);
      } catch (err) {
        // A connection cut off (by a fault) is what the reader is there to survive; the
        // statuses it saw are already recorded. Anything else is a bug of the reader itself.
        if (!(err instanceof TypeError || err instanceof DOMException || (err as NodeJS.ErrnoException).code !== undefined)) throw err;
      }
      if (signal.aborted) return;
      this.log.reconnects++;
      await sleep(RECONNECT_PAUSE_MS);
    }
  }
}
