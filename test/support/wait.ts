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
 * As until, for a condition that has to ask (an HTTP API): asked again 20 ms after each
 * answer; rejects after timeoutMs with `what`.
 */
export async function untilAnswered(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
