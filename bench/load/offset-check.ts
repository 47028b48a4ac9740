/** Checks that a reader got every offset 1..total exactly once, in order. */

export interface OffsetTally {
  total: number;
  /** Distinct offsets in 1..total that arrived. */
  received: number;
  /** Offsets that arrived again, or outside 1..total. */
  repeated: number;
  /** Offsets that arrived after a higher one. */
  outOfOrder: number;
}

export class OffsetCheck {
  readonly #seen: Uint8Array;
  #received = 0;
  #repeated = 0;
  #outOfOrder = 0;
  #highest = 0;
  /** performance.now() of the last record(). */
  lastAt = performance.now();

  constructor(readonly total: number) {
    this.#seen = new Uint8Array(total + 1);
  }

  get complete(): boolean {
    return this.#received === this.total;
  }

  record(offset: number): void {
    this.lastAt = performance.now();
    if (!(Number.isInteger(offset) && offset >= 1 && offset <= this.total) || this.#seen[offset] === 1) {
      this.#repeated++;
      return;
    }
    this.#seen[offset] = 1;
    this.#received++;
    if (offset < this.#highest) this.#outOfOrder++;
    else this.#highest = offset;
  }

  tally(): OffsetTally {
    return { total: this.total, received: this.#received, repeated: this.#repeated, outOfOrder: this.#outOfOrder };
  }
}

/** What should have arrived once, in order, and did not. */
export const shortfall = (t: OffsetTally): number => t.total - t.received + t.repeated + t.outOfOrder;
