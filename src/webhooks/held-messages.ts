import type { JsMsg } from "@nats-io/jetstream";
import { ACK_WAIT_MS, HEARTBEAT_MS } from "./consumer-config.js";

/** Heartbeats this far apart (the process stalled) may have let JetStream hand the event out again. */
const LAPSE_MS = (ACK_WAIT_MS * 3) / 4;

/** An event this gateway holds: kept from other gateways by a heartbeat until released. */
export class HeldMessage {
  readonly #heartbeat: NodeJS.Timeout;
  #beatAt = performance.now();
  #lapsed = false;

  constructor(
    readonly msg: JsMsg,
    private readonly released: (held: HeldMessage) => void = () => undefined,
  ) {
    this.#heartbeat = setInterval(() => {
      const now = performance.now();
      if (now - this.#beatAt > LAPSE_MS) this.#lapsed = true;
      this.#beatAt = now;
      msg.working();
    }, HEARTBEAT_MS);
  }

  /** JetStream may have handed it out again (a stall, or a newer delivery arrived): not to be sent. */
  get lapsed(): boolean {
    // Also a stall no heartbeat has run since (timers come after I/O and promises).
    return this.#lapsed || performance.now() - this.#beatAt > LAPSE_MS;
  }

  supersede(): void {
    this.#lapsed = true;
  }

  /** Stops the heartbeat: settled, or left for JetStream to hand out again after its ack wait. */
  release(): void {
    clearInterval(this.#heartbeat);
    this.released(this);
  }
}

/**
 * The messages a consumer handed this gateway, in order, each held from the moment it arrives:
 * one waiting behind an attempt (for the maxInFlight slot) is as alive as one being attempted.
 */
export class HeldMessages implements AsyncIterable<HeldMessage> {
  readonly #queue: HeldMessage[] = [];
  /** Per stream sequence, the delivery held: a later one of the same event makes it stale. */
  readonly #bySeq = new Map<number, HeldMessage>();
  #wake?: () => void;
  #ended = false;

  /** The consumer's callback (it must not be async). */
  readonly arrived = (msg: JsMsg): void => {
    const held = new HeldMessage(msg, (done) => {
      if (this.#bySeq.get(msg.seq) === done) this.#bySeq.delete(msg.seq);
    });
    this.#bySeq.get(msg.seq)?.supersede();
    this.#bySeq.set(msg.seq, held);
    this.#queue.push(held);
    this.#wake?.();
  };

  /** No more messages will arrive: iteration ends once those queued are taken. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  /** Takes every message not yet taken out of the queue (they stay held). */
  drain(): HeldMessage[] {
    return this.#queue.splice(0);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HeldMessage> {
    for (;;) {
      const next = this.#queue.shift();
      if (next) yield next;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
