/** One subscriber's check of what it received: in order, no gap, no duplicate. */
export class SequenceCheck {
  /** The next sequence number (offset) expected. */
  next: number;
  received = 0;
  /** Numbers skipped over: never coming back, so lost. */
  skipped = 0;
  repeated = 0;

  constructor(first: number) {
    this.next = first;
  }

  see(sequence: number): void {
    this.received++;
    if (sequence < this.next) {
      this.repeated++;
      return;
    }
    this.skipped += sequence - this.next;
    this.next = sequence + 1;
  }

  /** Events up to `last` not received: skipped ones and those still to come. */
  lost(last: number): number {
    return this.skipped + Math.max(0, last + 1 - this.next);
  }
}
