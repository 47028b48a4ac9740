import type { Delivery } from "../../delivery/delivery.js";
import type { Transport } from "../../delivery/transport.js";
import type { EncodedEvent } from "../../fanout/encoded-event.js";
import type { ReadItem } from "../../fanout/reader.js";
import type { GapNotice } from "@streamgate/protocol/position";

/** What a subscription does through its WebSocket session. */
export interface SubscriptionSession {
  sendEvent(subscription: Subscription, event: EncodedEvent): void;
  sendGap(subscription: Subscription, gap: GapNotice): void;
  /** Whether subscriptions may send more. */
  room(): boolean;
  /** Resolves once the socket has room again, or the connection ended. */
  drained(): Promise<void>;
  ended(subscription: Subscription, how: "stopped" | "feed-ended"): void;
  failed(subscription: Subscription, err: unknown): void;
}

/**
 * One subscription of a WebSocket session, and the transport its delivery pumps into: an
 * object, so an idle subscription holds no closures.
 */
export class Subscription implements Transport {
  /**
   * Which shared frame of an event this subscription sends (EncodedEvent.framed). Joined, not
   * a template: a template of this length is a chain of three cons strings, kept as long as
   * the subscription.
   */
  readonly frameKey: string;
  /** Set once it is open; undefined while its delivery is being opened. */
  delivery: Delivery | undefined;
  /** Whether it is still its session's: an item read just before it ended is not sent after its `unsubscribed`. */
  current = true;

  constructor(
    private readonly session: SubscriptionSession,
    readonly sub: string,
    subprotocol: string,
  ) {
    this.frameKey = ["ws", subprotocol, sub].join(" ");
  }

  send(item: ReadItem): boolean {
    const { session } = this;
    if (!this.current) return true;
    if (item.kind === "gap") session.sendGap(this, item.gap);
    else session.sendEvent(this, item.event);
    return session.room();
  }

  drained(): Promise<void> {
    return this.session.drained();
  }

  ended(how: "stopped" | "feed-ended"): void {
    this.session.ended(this, how);
  }

  failed(err: unknown): void {
    this.session.failed(this, err);
  }
}
