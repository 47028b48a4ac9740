import { afterEach } from "vitest";

export interface Cleanups {
  /** Something the test started, to be stopped after it. */
  push(cleanup: () => unknown): void;
}

/**
 * Registers an afterEach that runs what each test pushed, the last pushed first. Every cleanup
 * runs even when one before it failed; then the failures fail the test, not pass unseen.
 */
export function cleanupsAfterEach(): Cleanups {
  const pending: (() => unknown)[] = [];
  afterEach(async () => {
    const failures: unknown[] = [];
    for (const cleanup of pending.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cleanups failed`);
  });
  return { push: (cleanup) => void pending.push(cleanup) };
}
