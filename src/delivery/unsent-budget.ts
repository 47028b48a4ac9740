/**
 * What every connection of the gateway holds written but unsent, against one budget. Each
 * connection may hold up to its own high water; while the whole process holds more than the
 * budget, only connections below their socket's own high water get more. The others wait for
 * their socket's drain (which the socket then owes them) and, if the live window moves on
 * meanwhile, catch up from JetStream: overload slows the slowest clients, and memory stays
 * bounded, instead of every client's buffer growing together.
 */
export class UnsentBudget {
  #held = 0;

  constructor(readonly totalBytes: number) {}

  get exceeded(): boolean {
    return this.#held > this.totalBytes;
  }

  /** An account's change; accounts call it. */
  changed(delta: number): void {
    this.#held += delta;
  }

  /** The account of one connection; `floorBytes` is its socket's high water, past which its writes owe a drain. */
  open(highWaterBytes: number, floorBytes: number): UnsentAccount {
    return new UnsentAccount(this, highWaterBytes, Math.min(floorBytes, highWaterBytes));
  }
}

export class UnsentAccount {
  #held = 0;

  constructor(
    private readonly budget: UnsentBudget,
    private readonly highWaterBytes: number,
    private readonly floorBytes: number,
  ) {}

  /** Records what the connection holds unsent now; answers whether it has room for more. */
  holds(bytes: number): boolean {
    this.budget.changed(bytes - this.#held);
    this.#held = bytes;
    return bytes < this.highWaterBytes && (bytes < this.floorBytes || !this.budget.exceeded);
  }

  close(): void {
    this.holds(0);
  }
}
