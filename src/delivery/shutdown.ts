/**
 * Long-lived responses (SSE, long polls, WebSockets) register here, so a shutting-down
 * gateway can end them at once and clients resume elsewhere instead of waiting out a timeout.
 */
export class Shutdown {
  #listeners = new Set<() => void>();
  #started = false;

  /** Calls listener on shutdown (at once if it already began); returns the unregister function. */
  onShutdown(listener: () => void): () => void {
    if (this.#started) {
      listener();
      return () => undefined;
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  begin(): void {
    this.#started = true;
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }
}
