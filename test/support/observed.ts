/**
 * Something a test watches fill up in the background (a read, a response's frames, a webhook
 * receiver's requests). The subclass calls changed() on every change and sets `ended` (and
 * `failure`) when it is over; until() re-checks a condition on each change, with a deadline.
 * So a condition must change only with what is watched: wait on anything else with wait.ts's until.
 */
export abstract class Observed {
  ended = false;
  /** Set when what is watched failed rather than ended. */
  failure: unknown;
  readonly #listeners = new Set<() => void>();

  /**
   * Resolves once `condition` holds; rejects when it throws, when this ends first, or after
   * timeoutMs, saying what was seen and `detail()`.
   */
  until(condition: () => boolean, what: string, timeoutMs = 10_000, detail: () => string = () => ""): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const seen = () => {
        const more = detail();
        return `got ${this.describe()}${more ? `; ${more}` : ""}`;
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      const check = () => {
        let holds: boolean;
        try {
          holds = condition();
        } catch (err) {
          return finish(() => reject(err));
        }
        if (holds) return finish(resolve);
        if (!this.ended) return;
        const reason = this.failure === undefined ? "it ended" : `it failed: ${String(this.failure)}`;
        finish(() => reject(new Error(`waiting for ${what}: ${reason}; ${seen()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${seen()}`))),
        timeoutMs,
      );
      this.#listeners.add(check);
      check();
    });
  }

  protected changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** What has been seen so far, for failure messages. */
  protected abstract describe(): string;
}
