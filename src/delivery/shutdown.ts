/** What a shutting-down gateway ends: a connection (an object, so that registering one makes no closure). */
export interface Ending {
  shutDown(): void;
}

/**
 * Long-lived responses (SSE, long polls, WebSockets) register here, so a shutting-down
 * gateway can end them at once and clients resume elsewhere instead of waiting out a timeout.
 */
export class Shutdown {
  #open = new Set<Ending>();
  #started = false;

  /** Ends `ending` on shutdown (at once if it already began) unless it is removed first. */
  add(ending: Ending): void {
    if (this.#started) ending.shutDown();
    else this.#open.add(ending);
  }

  remove(ending: Ending): void {
    this.#open.delete(ending);
  }

  begin(): void {
    this.#started = true;
    for (const ending of this.#open) ending.shutDown();
    this.#open.clear();
  }
}
