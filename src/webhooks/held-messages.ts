import type { JsMsg } from "@nats-io/jetstream";
import { HEARTBEAT_MS } from "./consumer-config.js";

/** An event this gateway holds: kept from other gateways by a heartbeat until released. */
export class HeldMessage {
  readonly #heartbeat: NodeJS.Timeout;

  constructor(readonly msg: JsMsg) {
    this.#heartbeat = setInterval(() => msg.working(), HEARTBEAT_MS);
  }

  /** Stops the heartbeat: settled, or left for JetStream to hand out again after its ack wait. */
  release(): void {
    clearInterval(this.#heartbeat);
  }
}

/**
 * The messages a consumer handed this gateway, in order, each held from the moment it arrives:
 * one waiting behind an attempt (for the maxInFlight slot) is as alive as one being attempted.
 */
export class HeldMessages implements AsyncIterable<HeldMessage> {
  readonly #queue: HeldMessage[] = [];
  #wake?: () => void;
  #ended = false;

  /** The consumer's callback (it must not be async). */
  readonly arrived = (msg: JsMsg): void => {
    this.#queue.push(new HeldMessage(msg));
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
