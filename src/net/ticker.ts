/** A periodic job: an object with a method, so an idle connection holds no closure for it. */
export interface Periodic {
  tick(): void;
}

/**
 * One interval timer for every periodic job with the same period (a WebSocket's heartbeat, an
 * SSE response's keep-alive): an idle connection costs an entry in a set, not a timer of its own.
 * A job's first run comes within one period of joining, not exactly one period after.
 */
export class Ticker {
  readonly #jobs = new Set<Periodic>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  /** Runs job.tick() every period until it is removed. */
  add(job: Periodic): void {
    this.#jobs.add(job);
    this.#timer ??= setInterval(() => {
      for (const each of this.#jobs) each.tick();
    }, this.periodMs).unref();
  }

  remove(job: Periodic): void {
    this.#jobs.delete(job);
    if (this.#jobs.size > 0 || !this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

const tickers = new Map<number, Ticker>();

/** The ticker every job of this period shares. */
export function every(periodMs: number): Ticker {
  let ticker = tickers.get(periodMs);
  if (!ticker) tickers.set(periodMs, (ticker = new Ticker(periodMs)));
  return ticker;
}
