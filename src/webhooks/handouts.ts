import type { JsMsg } from "@nats-io/jetstream";

/** How a gateway settled an event in its consumer (a NAK gives it back: not a settlement). */
export type Settling = "ack" | "term";

/**
 * Settlements remembered for repeats. A repeat is of an event handed out moments before: the
 * server steps back one event per redelivery that found no pull request, and the redeliveries
 * (at most max_ack_pending, ≤ 1000) go out before it; a few kB per consumer.
 */
const REMEMBERED = 2_000;

/**
 * What one consumer handed this worker, to tell a repeat: an event handed out again as if new
 * (deliveryCount 1) after it was handed out before. nats-server before 2.10.14 does that when a
 * redelivery finds no live pull request waiting (a dead gateway's are still queued): it steps
 * its cursor back over the newest event it had handed out, which is then handed out again.
 */
export class Handouts {
  #newest = 0;
  #lastDelivery = 0;
  readonly #settled = new Map<number, Settling>();

  /** Notes the handing-out; true if it is a repeat. */
  repeats({ info }: JsMsg): boolean {
    // A consumer made again (a replay) numbers its deliveries from 1: the old one's are no guide.
    if (info.deliverySequence <= this.#lastDelivery) this.#forget();
    this.#lastDelivery = info.deliverySequence;
    const repeat = info.deliveryCount === 1 && info.streamSequence <= this.#newest;
    this.#newest = Math.max(this.#newest, info.streamSequence);
    return repeat;
  }

  settled(seq: number, how: Settling): void {
    this.#settled.delete(seq);
    this.#settled.set(seq, how);
    // Maps iterate in insertion order: the first key is the oldest settlement.
    if (this.#settled.size > REMEMBERED) this.#settled.delete(this.#settled.keys().next().value!);
  }

  /** How this worker settled the event, if it did lately. */
  settledAs(seq: number): Settling | undefined {
    return this.#settled.get(seq);
  }

  #forget(): void {
    this.#newest = 0;
    this.#settled.clear();
  }
}
