/** What one repetition started, stopped in reverse order when it ends, whether it passed or failed. */
export class Scope {
  readonly #stops: Array<() => Promise<void>> = [];

  /** Registers a stop; the function returned runs it at most once, now or at close(). */
  add(stop: () => Promise<unknown>): () => Promise<void> {
    let stopping: Promise<void> | undefined;
    const once = () => (stopping ??= stop().then(() => undefined));
    this.#stops.push(once);
    return once;
  }

  /** Stops everything; a stop that fails is reported and the others still run. */
  async close(log: (line: string) => void): Promise<void> {
    for (const stop of this.#stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
}
