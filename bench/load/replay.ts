/**
 * What every catch-up reader shares: it reads offsets 1..events of the orders stream, each
 * checked in order, from "go" until the last one arrived or nothing arrived for STALL_MS; its
 * report counts what arrived, what did not, what came again, and the seconds from "go" to the
 * last offset.
 */
import { loadMain } from "../harness/load-main.js";
import { readyThenGo } from "./go.js";
import { SequenceCheck } from "./sequence.js";

const STALL_MS = 30_000;

export interface ReplayArgs {
  /** The gateway's http:// URL, or the nats:// URL for the raw consumer. */
  url: string;
  events: number;
}

export interface ReplayReport {
  received: number;
  lost: number;
  repeated: number;
  seconds: number;
  /** Why the reader stopped short, if it did. */
  stopped?: string;
}

/** What a reader tells of each event, and whether it is past the last one. */
export class Tally {
  readonly #check = new SequenceCheck(1);
  /** performance.now() of the last event seen. */
  lastAt = performance.now();

  constructor(readonly events: number) {}

  see(offset: number): void {
    this.#check.see(offset);
    this.lastAt = performance.now();
  }

  get done(): boolean {
    return this.#check.next > this.events;
  }

  counts(): Pick<ReplayReport, "received" | "lost" | "repeated"> {
    return { received: this.#check.received, lost: this.#check.lost(this.events), repeated: this.#check.repeated };
  }
}

/** Reads until `tally.done` or the signal aborts; throws on anything the protocol should never send here. */
export type Reader = (url: string, tally: Tally, signal: AbortSignal) => Promise<void>;

export function replay(read: Reader): void {
  loadMain<ReplayArgs, ReplayReport>(async ({ url, events }, parent) => {
    const tally = new Tally(events);
    await readyThenGo(parent);
    const started = performance.now();
    tally.lastAt = started;
    const stall = new AbortController();
    const watchdog = setInterval(() => {
      if (performance.now() - tally.lastAt > STALL_MS) stall.abort(new Error(`nothing arrived for ${STALL_MS / 1000} s`));
    }, 1_000);
    let stopped: string | undefined;
    try {
      await read(url, tally, stall.signal);
      if (!tally.done) stopped = "the reader ended before the last event";
    } catch (err) {
      stopped = String(err);
    } finally {
      clearInterval(watchdog);
    }
    return { ...tally.counts(), seconds: (tally.lastAt - started) / 1000, ...(stopped ? { stopped } : {}) };
  });
}
