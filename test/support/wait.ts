export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every 10 ms until it holds; rejects after timeoutMs with `what` and
 * `detail()`. For state that nothing announces: wait on what an Observed watches with its until().
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000, detail: () => string = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      const more = detail();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more ? `; ${more}` : ""}`);
    }
    await sleep(10);
  }
}

/**
 * As until, for a value that has to be asked for (an HTTP API): read again 20 ms after each
 * answer until done(value); rejects after timeoutMs with `what` and the last value read.
 */
export async function eventually<V>(read: () => Promise<V>, done: (value: V) => boolean, what: string, timeoutMs = 10_000): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}
