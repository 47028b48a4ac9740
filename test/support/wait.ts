export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms until it holds; rejects after timeoutMs with `what` and `detail()`. */
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
 * Resolves once `condition` holds, checked now and again whenever `listeners` are called (the
 * source calls them on every change). Rejects with `endedError()` when that gives an error (the
 * source ended first), with what `condition` throws, or with `timeoutError()` after timeoutMs.
 */
export function untilNotified(
  listeners: Set<() => void>,
  condition: () => boolean,
  timeoutMs: number,
  endedError: () => Error | undefined,
  timeoutError: () => Error,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      let holds: boolean;
      try {
        holds = condition();
      } catch (err) {
        return finish(() => reject(err));
      }
      if (holds) return finish(resolve);
      const ended = endedError();
      if (ended) return finish(() => reject(ended));
    };
    const timer = setTimeout(() => finish(() => reject(timeoutError())), timeoutMs);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      listeners.delete(check);
      settle();
    };
    listeners.add(check);
    check();
  });
}
