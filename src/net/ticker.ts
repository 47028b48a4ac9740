/**
 * One interval timer for every periodic job with the same period (a WebSocket's heartbeat, an
 * SSE response's keep-alive): an idle connection costs an entry in a set, not a timer of its own.
 * A job's first run comes within one period of joining, not exactly one period after.
 */
class Ticker {
  readonly #jobs = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  add(job: () => void): () => void {
    this.#jobs.add(job);
    this.#timer ??= setInterval(() => {
      for (const each of this.#jobs) each();
    }, this.periodMs).unref();
    return () => {
      this.#jobs.delete(job);
      if (this.#jobs.size > 0 || !this.#timer) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  }
}

const tickers = new Map<number, Ticker>();

/** Runs job every periodMs until the returned function is called. */
export function every(periodMs: number, job: () => void): () => void {
  let ticker = tickers.get(periodMs);
  if (!ticker) tickers.set(periodMs, (ticker = new Ticker(periodMs)));
  return ticker.add(job);
}
