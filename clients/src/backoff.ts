/** Exponential backoff with full jitter: 0..min(max, base * 2^attempt). */
export function backoffMs(attempt: number, baseMs = 250, maxMs = 10_000): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
