import type { Socket } from "node:net";
import type { FastifyBaseLogger } from "fastify";
import type { WebSocket } from "ws";
import type { Connection } from "../../delivery/connection.js";
import type { Deliveries, Delivery } from "../../delivery/delivery.js";
import type { EncodedEvent } from "../../fanout/encoded-event.js";
import { corkUntilTurnEnds, type Uncorked } from "../../delivery/tick-writes.js";
import type { GapNotice } from "@streamgate/protocol/position";
import { serverFrame } from "./frame.js";
import { Heartbeat } from "./heartbeat.js";
import { Subscription, type SubscriptionSession } from "./subscription.js";
import type { UnsentAccount, UnsentBudget } from "../../delivery/unsent-budget.js";
import { toApiError } from "../../delivery/errors.js";
import { withItem, withoutItem } from "../../delivery/exact-arrays.js";
import type { DecodedClientMessage, Frame, ServerMessage, WireCodec } from "@streamgate/protocol/codec";
import type { WireEvent } from "@streamgate/protocol/envelope";
import { ApiError, CLOSE_CODES, ERROR_CATALOG } from "@streamgate/protocol/errors";
import { PermissionDeniedError } from "../../auth/permission-denied-error.js";
import { UnauthenticatedError } from "../../auth/unauthenticated-error.js";
import type { Principal } from "../../auth/principal.js";
import type { EventInput } from "@streamgate/protocol/publish";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import type { Publisher } from "../../publishing/publisher.js";
import { requireStream, type Schemas } from "../../schema/registry.js";

export interface WsLimits {
  maxSubscriptions: number;
  /** Client frames per second, with bursts of twice that. */
  framesPerSecond: number;
  /** Bytes the socket may hold unsent before subscriptions stop pulling events (less while the gateway is over its budget). */
  highWaterBytes: number;
  /** A socket that cannot drain below high water for this long is closed with 4008. */
  slowConsumerTimeoutMs: number;
}

export interface SessionDeps {
  deliveries: Deliveries;
  publisher: Publisher;
  schemas: Schemas;
  limits: WsLimits;
  /** The gateway's budget of unsent bytes, shared by every connection. */
  unsent: UnsentBudget;
  log: FastifyBaseLogger;
  /** Who a credential sent in an `auth` frame is; undefined while auth is off. */
  authenticate: ((credential: string) => Promise<Principal>) | undefined;
  pingIntervalMs: number;
}

/**
 * One WebSocket connection: many subscriptions, each a Delivery pulling only while the socket
 * has room, so a slow client costs a cursor per subscription, not a queue. The session writes
 * its subscriptions' frames and tells their deliveries when the socket has drained.
 *
 * Every idle connection holds one: what it keeps is in fields (the deps are shared by all
 * sessions), and its only closures are its socket's listeners.
 */
export class WsSession implements SubscriptionSession, Uncorked {
  /**
   * In the order they were made; one being opened has no delivery yet. An array, not a map: most
   * sessions hold one, a map's table costs more than the rest of a subscription, and only client
   * frames look a subscription up by name (events go to the Subscription itself).
   */
  #subs: Subscription[] = [];
  #tokens: number;
  /** 0 until the first frame: the bucket starts full either way, and a number that is no small integer costs a box. */
  #refilled = 0;
  #drain?: Promise<void>;
  /** `auth` frames are taken in the order they came, so the last one sent is the one that holds. Made at the first. */
  #authing: Promise<void> | undefined;
  /** What this socket holds unsent, against its high water and the gateway's budget. */
  readonly #unsent: UnsentAccount;
  readonly #heartbeat: Heartbeat;

  constructor(
    private readonly socket: WebSocket,
    /** The TCP socket under it, whose drain events say when the peer took what was sent. */
    private readonly raw: Socket,
    private readonly codec: WireCodec,
    private readonly connection: Connection,
    private readonly deps: SessionDeps,
  ) {
    this.#tokens = deps.limits.framesPerSecond * 2;
    this.#unsent = deps.unsent.open(deps.limits.highWaterBytes, raw.writableHighWaterMark);
    this.#heartbeat = new Heartbeat(socket, raw, deps.pingIntervalMs, deps.limits.slowConsumerTimeoutMs);
    WsSession.#of.set(socket, this);
    socket.on("message", WsSession.#onMessage);
    socket.on("pong", WsSession.#onPong);
    socket.on("close", WsSession.#onClose);
  }

  /**
   * Each socket's session, so the socket's listeners are the same three functions for every
   * socket (the socket is `this`), not closures of each: every idle connection held them.
   */
  static readonly #of = new WeakMap<WebSocket, WsSession>();

  // Registered only once the socket is in #of.

  static #onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
    WsSession.#of.get(this)!.#received(data, isBinary);
  }

  static #onPong(this: WebSocket): void {
    WsSession.#of.get(this)!.#heartbeat.answered();
  }

  static #onClose(this: WebSocket): void {
    WsSession.#of.get(this)!.#closed();
  }

  #received(data: Buffer, isBinary: boolean): void {
    try {
      this.#receive(isBinary ? data : data.toString("utf8"));
    } catch (err) {
      // A frame this code failed on is still only that frame's problem.
      this.deps.log.error({ err }, "WebSocket frame failed");
      this.#error(err, {});
    }
  }

  #closed(): void {
    clearTimeout(this.#authDeadline);
    this.#heartbeat.stop();
    this.connection.close();
    this.#unsent.close();
  }

  #authDeadline?: NodeJS.Timeout;

  /**
   * Acts for the principal the upgrade authenticated. A connection with none (auth on, no
   * credential) gets unauthenticated errors for what it asks, and is closed with 1008 after
   * authTimeoutMs unless an `auth` frame authenticates it first.
   */
  authenticate(principal: Principal | undefined, authTimeoutMs: number): void {
    if (principal) return this.#actFor(principal);
    this.#authDeadline = setTimeout(() => this.#policyClose(`not authenticated within ${authTimeoutMs / 1000} s`), authTimeoutMs);
  }

  /**
   * From now on, until the principal's expiry: 30 s before it an `expiring` notice, at it an
   * `error` unauthenticated and close 1008, unless an `auth` frame refreshes it first.
   */
  #actFor(principal: Principal): void {
    clearTimeout(this.#authDeadline);
    this.connection.authenticate(principal, {
      expiring: (expiresAt) => this.#send({ op: "expiring", expires_at: expiresAt }),
      expired: () => this.#policyClose("the credential expired: send an auth frame before it does, or reconnect with a fresh one and resume"),
    });
  }

  #policyClose(message: string): void {
    this.#error(new UnauthenticatedError(message), {});
    this.socket.close(ERROR_CATALOG.unauthenticated.close, message);
  }

  /**
   * Authenticates or refreshes in place (PROTOCOL.md 9.3). A credential that does not verify is
   * refused and the old one holds; one that does replaces it, and every subscription is held
   * to the new grants.
   */
  async #auth(ref: string, token: string): Promise<void> {
    const { authenticate } = this.deps;
    if (!authenticate) return this.#error(new ApiError("invalid_argument", "auth is off: this gateway takes no credentials"), { ref });
    let principal: Principal;
    try {
      principal = await authenticate(token);
    } catch (err) {
      return this.#error(err, { ref });
    }
    if (this.connection.closed) return;
    this.#actFor(principal);
    this.#send({ op: "authed", ref, ...(principal.expiresAt !== undefined && { expires_at: principal.expiresAt }) });
    for (const subscription of [...this.#subs]) {
      const { delivery } = subscription;
      // One still being opened is checked once it is open.
      if (!delivery || delivery.readableBy(principal)) continue;
      this.#remove(subscription);
      delivery.close();
      this.#send({ op: "unsubscribed", sub: subscription.sub, reason: "permission_denied" });
    }
  }

  /** Starts a subscription whose read was asked for in the URL (/v1/streams/{stream}/ws). */
  adopt(sub: string, delivery: Delivery): void {
    this.#start(this.#add(sub), delivery);
  }

  #add(sub: string): Subscription {
    const subscription = new Subscription(this, sub, this.codec.subprotocol);
    this.#subs = withItem(this.#subs, subscription);
    return subscription;
  }

  #find(sub: string): Subscription | undefined {
    return this.#subs.find((each) => each.sub === sub);
  }

  #remove(subscription: Subscription): void {
    subscription.current = false;
    this.#subs = withoutItem(this.#subs, subscription);
  }

  #receive(frame: Frame): void {
    // A client that sends without reading would make every reply pile up here.
    if (this.socket.bufferedAmount >= this.deps.limits.highWaterBytes) {
      this.socket.close(CLOSE_CODES.slowConsumer, "slow consumer: read your replies");
      return;
    }
    const message = this.codec.decodeClient(frame);
    if ("problem" in message) {
      const { problem, ...ids } = message;
      this.#error(new ApiError("invalid_argument", problem), ids);
      return;
    }
    if (!this.#takeToken()) {
      // Decoded first, so the refusal names the request it refuses.
      const ids = "ref" in message ? { ref: message.ref } : { sub: message.sub };
      this.#error(new ApiError("rate_limited", `more than ${this.deps.limits.framesPerSecond} frames per second`), ids);
      return;
    }
    this.#handle(message);
  }

  #handle(message: DecodedClientMessage): void {
    switch (message.op) {
      case "subscribe":
        void this.#subscribe(message.sub, message.stream, message.read);
        break;
      case "unsubscribe":
        this.#unsubscribe(message.sub);
        break;
      case "publish":
        void this.#publish(message.ref, message.stream, message.event);
        break;
      case "ping":
        this.#send({ op: "pong", ref: message.ref });
        break;
      case "auth":
        this.#authing = (this.#authing ?? Promise.resolve())
          .then(() => this.#auth(message.ref, message.token))
          .catch((err: unknown) => {
            // Like a frame this code failed on: that frame's problem, and the next auth still runs.
            this.deps.log.error({ err }, "WebSocket auth failed");
            this.#error(err, { ref: message.ref });
          });
        break;
    }
  }

  async #subscribe(sub: string, stream: string, read: () => ReadSpec): Promise<void> {
    const { maxSubscriptions } = this.deps.limits;
    if (this.#find(sub)) return this.#error(new ApiError("invalid_argument", `subscription "${sub}" already exists`), { sub });
    if (this.#subs.length >= maxSubscriptions) {
      return this.#error(new ApiError("invalid_argument", `at most ${maxSubscriptions} subscriptions per connection`), { sub });
    }
    // Reserved at once, so a quick unsubscribe or a twin subscribe sees it.
    const subscription = this.#add(sub);
    try {
      const delivery = await this.deps.deliveries.open(this.connection, stream, read);
      // Unsubscribed (or the socket closed) while it was being opened.
      if (!subscription.current || this.connection.closed) {
        delivery.close();
        return;
      }
      // The credential was refreshed while it was being opened, to one that does not allow it.
      const principal = this.connection.principal;
      if (!principal || !delivery.readableBy(principal)) {
        delivery.close();
        throw new PermissionDeniedError("the credential changed while this subscription was being opened, and no longer allows it");
      }
      this.#start(subscription, delivery);
    } catch (err) {
      if (subscription.current) this.#remove(subscription);
      this.#error(err, { sub });
    }
  }

  #start(subscription: Subscription, delivery: Delivery): void {
    subscription.delivery = delivery;
    const { state } = delivery;
    this.#send({ op: "subscribed", sub: subscription.sub, stream: state.name, first_offset: state.firstOffset, last_offset: state.lastOffset, epoch: state.epoch });
    delivery.pump(subscription);
  }

  ended(subscription: Subscription, how: "stopped" | "feed-ended"): void {
    if (!subscription.current) return;
    const { sub } = subscription;
    this.#remove(subscription);
    // The stream's feed ended (re-created, or the backbone failed): the client
    // subscribes again from its last offset, with its epoch.
    if (how === "feed-ended") this.#send({ op: "unsubscribed", sub, reason: "the stream's feed ended: subscribe again from your last offset" });
  }

  /** A subscription that broke: the client is told, and may subscribe again from its last offset. */
  failed(subscription: Subscription, err: unknown): void {
    const { sub } = subscription;
    if (subscription.current) this.#remove(subscription);
    this.#error(err, { sub });
  }

  sendGap({ sub }: Subscription, gap: GapNotice): void {
    this.#send({ op: "gap", sub, gap });
  }

  /**
   * Resolves once the socket is below high water again, on the TCP socket's drain events, or
   * when the connection ends. Shared by every subscription of the connection. A peer that does
   * not drain for slowConsumerTimeoutMs is closed with 4008: it resumes from its last offset.
   */
  drained(): Promise<void> {
    return (this.#drain ??= new Promise<void>((resolve) => {
      const { slowConsumerTimeoutMs } = this.deps.limits;
      const done = () => {
        clearTimeout(slow);
        this.raw.off("drain", check);
        this.connection.signal.removeEventListener("abort", done);
        this.#drain = undefined;
        resolve();
      };
      const check = () => {
        if (this.room()) done();
      };
      const slow = setTimeout(() => {
        this.socket.close(CLOSE_CODES.slowConsumer, "slow consumer: resume from your last offset");
        done();
      }, slowConsumerTimeoutMs);
      this.raw.on("drain", check);
      this.connection.signal.addEventListener("abort", done, { once: true });
      if (this.connection.signal.aborted) done();
      else check();
    }));
  }

  #unsubscribe(sub: string): void {
    const subscription = this.#find(sub);
    if (!subscription) {
      this.#error(new ApiError("not_found", `no subscription "${sub}"`), { sub });
      return;
    }
    this.#remove(subscription);
    subscription.delivery?.close();
    this.#send({ op: "unsubscribed", sub });
  }

  async #publish(ref: string, streamName: string, input: EventInput): Promise<void> {
    const { publisher } = this.deps;
    try {
      const event = publisher.input(requireStream(this.deps.schemas, streamName), input);
      this.#send({ op: "published", ref, ...(await publisher.store(event, this.connection.principal, "ws")) });
    } catch (err) {
      this.#error(err, { ref });
    }
  }

  #error(err: unknown, ids: { ref?: string; sub?: string }): void {
    const { code, message } = toApiError(err);
    this.#send({ op: "error", ...ids, code, message });
  }

  #send(message: ServerMessage<WireEvent>): void {
    if (!this.#open()) return;
    this.socket.send(this.codec.encodeServer(message), (err) => {
      if (err) this.deps.log.debug({ err }, "WebSocket send failed");
    });
  }

  /**
   * An event goes out as the frame every subscriber with this sub and codec shares, written
   * straight to the TCP socket (the ws library frames nothing of ours per socket: no compression
   * is negotiated, so its frames and ours interleave whole), corked until the turn ends.
   */
  sendEvent({ sub, frameKey }: Subscription, event: EncodedEvent): void {
    if (!this.#open()) return;
    const { codec } = this;
    const frame = event.framed(frameKey, () => serverFrame(codec.encodeServer({ op: "event", sub, event })));
    corkUntilTurnEnds(this.raw, this);
    this.raw.write(frame);
  }

  /** Whether frames may still be written: the connection is on and the socket neither closing nor closed. */
  #open(): boolean {
    return !this.connection.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Whether subscriptions may send more: the socket is below its high water, and the gateway within its budget. */
  room(): boolean {
    return this.#unsent.holds(this.socket.bufferedAmount);
  }

  /** The socket let its corked frames go: what it still holds is recorded against the budget. */
  uncorked(): void {
    if (!this.connection.closed) this.room();
  }

  #takeToken(): boolean {
    const { framesPerSecond } = this.deps.limits;
    const now = Date.now();
    this.#tokens = Math.min(framesPerSecond * 2, this.#tokens + ((now - this.#refilled) / 1000) * framesPerSecond);
    this.#refilled = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
