import type { WebSocket } from "ws";
import type { FastifyBaseLogger } from "fastify";
import type { Hub, OpenedReader } from "../../fanout/hub.js";
import type { Reader } from "../../fanout/reader.js";
import type { Schemas } from "../../schema/registry.js";
import type { Metrics } from "../../metrics/metrics.js";
import { ApiError, toApiError } from "../../gateway/errors.js";
import type { BinaryEventInput, JsonEventInput } from "../../publishing/event-input.js";
import type { Publisher } from "../../publishing/publisher.js";
import { requireStream } from "../../gateway/routes/streams.js";
import { parseKey, parseTypes } from "../read-request.js";
import type { ClientOp, Frame, FrameCodec, FrameProblem } from "./frames.js";

export interface WsLimits {
  maxSubscriptions: number;
  /** Client frames per second, with bursts of twice that. */
  framesPerSecond: number;
  /** Bytes the socket may hold unsent before subscriptions stop pulling events. */
  highWaterBytes: number;
  /** A socket that cannot drain below high water for this long is closed with 4008. */
  slowConsumerTimeoutMs: number;
}

export interface SessionDeps {
  hub: Hub;
  publisher: Publisher;
  schemas: Schemas;
  limits: WsLimits;
  log: FastifyBaseLogger;
  metrics: Metrics;
}

export const CLOSE_SLOW_CONSUMER = 4008;

interface Subscription {
  reader: Reader;
  stop: AbortController;
}

/**
 * One WebSocket connection: many subscriptions, each pulling from its own Reader only while
 * the socket has room, so a slow client costs a cursor per subscription, not a queue.
 */
export class WsSession {
  #subs = new Map<string, Subscription>();
  #tokens: number;
  #refilled = Date.now();
  #closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly codec: FrameCodec,
    private readonly deps: SessionDeps,
  ) {
    this.#tokens = deps.limits.framesPerSecond * 2;
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      try {
        this.#receive(data, isBinary);
      } catch (err) {
        // A frame this code failed on is still only that frame's problem.
        deps.log.error({ err }, "WebSocket frame failed");
        this.#send(this.codec.error(problem(err)));
      }
    });
    socket.on("close", () => this.close());
  }

  close(): void {
    this.#closed = true;
    for (const sub of this.#subs.values()) this.#end(sub);
    this.#subs.clear();
  }

  /** Starts a subscription whose reader was opened before the upgrade (/v1/streams/{stream}/ws). */
  adopt(sub: string, opened: OpenedReader): void {
    const subscription: Subscription = { reader: opened.reader, stop: new AbortController() };
    this.#subs.set(sub, subscription);
    this.#start(sub, subscription, opened);
  }

  #receive(data: Buffer, isBinary: boolean): void {
    // A client that sends without reading would make every reply pile up here.
    if (this.socket.bufferedAmount >= this.deps.limits.highWaterBytes) {
      this.socket.close(CLOSE_SLOW_CONSUMER, "slow consumer: read your replies");
      return;
    }
    const op = this.codec.decode(data, isBinary);
    if ("code" in op) {
      this.#send(this.codec.error(op));
      return;
    }
    if (!this.#takeToken()) {
      // Decoded first, so the refusal names the request it refuses.
      const ids = "ref" in op ? { ref: op.ref } : "sub" in op ? { sub: op.sub } : {};
      const message = `more than ${this.deps.limits.framesPerSecond} frames per second`;
      this.#send(this.codec.error({ code: "rate_limited", message, ...ids }));
      return;
    }
    switch (op.op) {
      case "subscribe":
        void this.#subscribe(op);
        break;
      case "unsubscribe":
        this.#unsubscribe(op.sub);
        break;
      case "publish":
        void this.#publish(op.ref, op.stream, op.event);
        break;
      case "ping":
        this.#send(this.codec.pong(op.ref));
        break;
    }
  }

  async #subscribe(op: Extract<ClientOp, { op: "subscribe" }>): Promise<void> {
    const { sub } = op;
    const fail = (err: unknown) => this.#send(this.codec.error({ ...problem(err), sub }));
    if (this.#subs.has(sub)) return fail(new ApiError("invalid_argument", `subscription "${sub}" already exists`));
    if (this.#subs.size >= this.deps.limits.maxSubscriptions) {
      return fail(new ApiError("invalid_argument", `at most ${this.deps.limits.maxSubscriptions} subscriptions per connection`));
    }
    const stop = new AbortController();
    // Reserved at once, so a quick unsubscribe or a twin subscribe sees it.
    const pending: Subscription = { reader: undefined as never, stop };
    this.#subs.set(sub, pending);
    try {
      const stream = requireStream(this.deps.schemas, op.stream);
      const opened = await this.deps.hub.open({
        stream: stream.name,
        position: op.position,
        ...(op.epoch !== undefined && { epoch: op.epoch }),
        ...(op.types && { types: parseTypes(stream, op.types) }),
        ...(op.key !== undefined && { key: parseKey(op.key) }),
      });
      if (stop.signal.aborted || this.#closed) {
        opened.reader.close();
        return;
      }
      this.#start(sub, pending, opened);
    } catch (err) {
      if (this.#subs.get(sub) === pending) this.#subs.delete(sub);
      fail(err);
    }
  }

  #start(sub: string, subscription: Subscription, opened: OpenedReader): void {
    subscription.reader = opened.reader;
    this.#send(this.codec.subscribed(sub, opened.state));
    void this.#pump(sub, subscription).catch((err: unknown) => this.#fail(sub, subscription, err));
  }

  /** A subscription that broke: the client is told, and may subscribe again from its last offset. */
  #fail(sub: string, subscription: Subscription, err: unknown): void {
    if (this.#subs.get(sub) === subscription) this.#subs.delete(sub);
    this.#end(subscription);
    this.#send(this.codec.error({ ...problem(err), sub }));
  }

  async #pump(sub: string, subscription: Subscription): Promise<void> {
    const { reader, stop } = subscription;
    for (;;) {
      if (!(await this.#roomToSend(stop.signal))) return;
      const item = await reader.next({ wait: true, signal: stop.signal });
      if (!item) {
        // Not asked to stop: the stream's feed ended (the stream was re-created, or the
        // backbone failed). The client resubscribes from its last offset, with its epoch.
        if (!stop.signal.aborted && !this.#closed && this.#subs.get(sub) === subscription) {
          this.#subs.delete(sub);
          this.#end(subscription);
          this.#send(this.codec.unsubscribed(sub, "the stream's feed ended: subscribe again from your last offset"));
        }
        return;
      }
      if (item.kind === "gap") {
        this.#send(this.codec.gap(sub, item.gap));
        continue;
      }
      this.#send(this.codec.event(sub, item.event));
      this.deps.metrics.delivered.add(1, { protocol: "ws" });
    }
  }

  /** Waits until the socket holds less than high water; false when the subscription ended. */
  async #roomToSend(signal: AbortSignal): Promise<boolean> {
    const { highWaterBytes, slowConsumerTimeoutMs } = this.deps.limits;
    const since = Date.now();
    while (this.socket.bufferedAmount >= highWaterBytes) {
      if (signal.aborted || this.#closed) return false;
      if (Date.now() - since > slowConsumerTimeoutMs) {
        this.socket.close(CLOSE_SLOW_CONSUMER, "slow consumer: resume from your last offset");
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return !signal.aborted && !this.#closed;
  }

  #unsubscribe(sub: string): void {
    const subscription = this.#subs.get(sub);
    if (!subscription) {
      this.#send(this.codec.error({ code: "not_found", message: `no subscription "${sub}"`, sub }));
      return;
    }
    this.#subs.delete(sub);
    this.#end(subscription);
    this.#send(this.codec.unsubscribed(sub));
  }

  async #publish(ref: string, streamName: string, input: JsonEventInput | BinaryEventInput): Promise<void> {
    const { publisher } = this.deps;
    try {
      const stream = requireStream(this.deps.schemas, streamName);
      const event = isBinary(input) ? publisher.binary(stream, input) : publisher.json(stream, input);
      this.#send(this.codec.published(ref, await publisher.store(event)));
    } catch (err) {
      this.#send(this.codec.error({ ...problem(err), ref }));
    }
  }

  #end(subscription: Subscription): void {
    subscription.stop.abort();
    subscription.reader?.close();
  }

  #send(frame: Frame): void {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(frame, (err) => {
      if (err) this.deps.log.debug({ err }, "WebSocket send failed");
    });
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

function isBinary(input: JsonEventInput | BinaryEventInput): input is BinaryEventInput {
  return input.data instanceof Uint8Array;
}

function problem(err: unknown): FrameProblem {
  const apiError = toApiError(err);
  return { code: apiError.code, message: apiError.message };
}
