import type { JetStreamClient, JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";

/** The one call storing an event needs: a JetStreamClient, or a PublishQueue in front of one. */
export type JetStreamPublish = Pick<JetStreamClient, "publish">;

interface Queued {
  subject: string;
  data: Uint8Array;
  options: Partial<JetStreamPublishOptions>;
  resolve(ack: PubAck): void;
  reject(err: unknown): void;
}

/**
 * Enough acks outstanding to keep JetStream busy (a whole batch of MAX_BATCH goes out at once),
 * few enough that the last of them is answered well within the publish timeout.
 */
export const DEFAULT_MAX_IN_FLIGHT = 2048;

/**
 * Holds the publishes asked for while the event loop reads its sockets and issues them together
 * once it has (setImmediate): nats.js writes what is issued in one go as one socket write, so the
 * publishes of many HTTP requests share one write here and one read in nats-server instead of
 * paying one each (per event, that was most of nats-server's CPU). Order is kept; past
 * maxInFlight unanswered publishes, the rest wait here, in order, and their timeouts start
 * only when they are sent.
 */
export class PublishQueue implements JetStreamPublish {
  #queued: Queued[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly js: JetStreamPublish,
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {}

  publish(subject: string, data: Uint8Array, options: Partial<JetStreamPublishOptions> = {}): Promise<PubAck> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ subject, data, options, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#queued.length === 0 || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    setImmediate(this.#issue);
  }

  readonly #issue = (): void => {
    this.#scheduled = false;
    const sending = this.#queued.splice(0, this.maxInFlight - this.#inFlight);
    this.#inFlight += sending.length;
    for (const { subject, data, options, resolve, reject } of sending) {
      this.js.publish(subject, data, options).then(
        (ack) => this.#answered(resolve, ack),
        (err: unknown) => this.#answered(reject, err),
      );
    }
  };

  #answered<T>(settle: (value: T) => void, value: T): void {
    this.#inFlight--;
    settle(value);
    this.#schedule();
  }
}
