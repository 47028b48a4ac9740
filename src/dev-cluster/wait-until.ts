import { setTimeout as sleep } from "node:timers/promises";

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, last: string) {
    super(`${what}: not so after ${timeoutMs / 1000} s${last ? ` (last: ${last})` : ""}`);
    this.name = "WaitTimeoutError";
  }
}

/** Thrown by a check that knows the condition can no longer come true: waitUntil gives up at once. */
export class GiveUpWaiting extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "GiveUpWaiting";
  }
}

/**
 * Asks `check` every intervalMs until it answers true; a check that throws counts as "not yet".
 * Rejects after timeoutMs naming `what` and the last error, or at once with a GiveUpWaiting.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last = "";
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof GiveUpWaiting) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(what, timeoutMs, last);
    await sleep(intervalMs);
  }
}
