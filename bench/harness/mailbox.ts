/** Messages in arrival order, taken one at a time by whoever awaits them. */
export class Mailbox<Message> {
  readonly #queued: Message[] = [];
  readonly #takers: Array<{ resolve(message: Message): void; reject(error: Error): void }> = [];
  #closed: Error | undefined;

  put(message: Message): void {
    const taker = this.#takers.shift();
    if (taker) taker.resolve(message);
    else this.#queued.push(message);
  }

  take(): Promise<Message> {
    if (this.#queued.length > 0) return Promise.resolve(this.#queued.shift()!);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => this.#takers.push({ resolve, reject }));
  }

  /** No more messages will come: waiting and later takers get `error` once the queue is empty. */
  close(error: Error): void {
    this.#closed ??= error;
    for (const taker of this.#takers.splice(0)) taker.reject(this.#closed);
  }
}
