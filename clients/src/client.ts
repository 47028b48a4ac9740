import type { ServerMessage } from "@streamgate/protocol/codec";
import type { GapNotice, Position } from "@streamgate/protocol/position";
import type { EventInput, PublishResult } from "@streamgate/protocol/publish";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import type { AnyStreamDescriptor, ConsumedEvent, EventTypeOf, PublishableEvent } from "@streamgate/protocol/stream";
import { backoffMs, sleep } from "./backoff.js";
import { typed, UnreadableEventError, type Delivery } from "./events.js";
import { readPoll } from "./poll.js";
import { ConnectionLostError, CredentialExpiredError, RequestRefusedError } from "./query.js";
import { readSse } from "./sse.js";
import type { ClientCodec } from "./client-codec.js";
import { isOpen, openSocket, readWs, send, type SocketFactory, type SocketLike, type WebSocketConstructor, type WebSocketOptions } from "./ws.js";

export type Protocol = "ws" | "sse" | "poll";

export interface ClientOptions {
  /** The gateway, e.g. "https://events.example.com" (no trailing /v1). */
  baseUrl: string;
  /** The WebSocket to use, e.g. the `ws` package's for headers in Node; by default the global one. */
  WebSocket?: WebSocketConstructor;
  /**
   * The bearer token (PROTOCOL.md 9.1), asked for on every connection, reconnection and publish
   * (cache in it what is costly to mint). When a read's credential expires, the client asks
   * again and resumes right after the last event. Browsers may leave it out and rely on the
   * `streamgate_token` cookie instead.
   */
  getToken?: () => string | Promise<string>;
  /**
   * The WebSocket constructor's third argument, for the `ws` package (headers, an agent);
   * with getToken, its headers carry the Authorization too. Browsers take none: a browser
   * WebSocket cannot send headers, and authenticates with the `streamgate_token` cookie.
   */
  webSocketOptions?: WebSocketOptions;
}

export interface SubscribeOptions<S> {
  /** Where to start; default { from: "now" }. After a reconnect, reading resumes after the last event. */
  position?: Position;
  epoch?: string;
  types?: readonly EventTypeOf<S>[];
  key?: string;
  /** The first protocol to try; a protocol that cannot connect falls back ws → sse → poll. */
  protocol?: Protocol;
  onGap?: (gap: GapNotice) => void;
  /** Called when the client switches protocol or reconnects, with why. */
  onReconnect?: (info: { protocol: Protocol; attempt: number; reason: string }) => void;
  /** Events this program's schema cannot type (a newer event type): skipped after this is called. */
  onUnreadable?: (error: UnreadableEventError) => void;
  signal?: AbortSignal;
}

export interface PublishOptions {
  key?: string;
  id?: string;
  via?: "http" | "ws";
}

export type Published = PublishResult;

/** A publish's answer on the shared socket; undefined when the socket closed first. */
type PublishAnswer = Extract<ServerMessage<never>, { op: "published" | "error" }> | undefined;

const FALLBACK: Protocol[] = ["ws", "sse", "poll"];
/** Connection failures in a row, never having received anything, before a protocol counts as blocked. */
const BLOCKED_AFTER = 2;

export class StreamgateClient {
  #baseUrl: string;
  #publisher: Promise<{ socket: SocketLike; pending: Map<string, (answer: PublishAnswer) => void> }> | undefined;
  #refs = 0;

  constructor(
    private readonly options: ClientOptions,
    private readonly codec: ClientCodec,
  ) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  /**
   * The stream's events, typed, in offset order, from the position on. Reconnects with
   * exponential backoff and jitter, resuming right after the last event received, on whatever
   * protocol works; only a refusal (a bad position, an unknown stream) ends it with an error.
   */
  async *subscribe<S extends AnyStreamDescriptor>(stream: S, options: SubscribeOptions<S> = {}): AsyncGenerator<ConsumedEvent<S>> {
    const signal = options.signal ?? new AbortController().signal;
    let protocol: Protocol = options.protocol ?? (this.#webSocket() ? "ws" : "sse");
    let position: Position = options.position ?? { from: "now" };
    let epoch = options.epoch;
    let failures = 0;
    let attempt = 0;
    // A protocol that delivered once works here: later failures are outages, not a block.
    const worked = new Set<Protocol>();
    while (!signal.aborted) {
      const spec: ReadSpec = {
        position,
        ...(epoch !== undefined && { epoch }),
        ...(options.types && { types: options.types }),
        ...(options.key !== undefined && { key: options.key }),
      };
      let received = false;
      try {
        for await (const delivery of this.#read(protocol, stream.name, spec, signal, await this.#authorization())) {
          received = true;
          worked.add(protocol);
          failures = 0;
          attempt = 0;
          if (delivery.kind === "gap") {
            // Resume from where the gap left us, in the stream's current generation: asking
            // again with the old epoch would replay from the oldest event every time.
            epoch = delivery.gap.epoch;
            position = { from: delivery.gap.first };
            options.onGap?.(delivery.gap);
            continue;
          }
          position = { from: delivery.event.offset + 1 };
          try {
            yield typed(stream, delivery.event);
          } catch (err) {
            if (!(err instanceof UnreadableEventError)) throw err;
            options.onUnreadable?.(err);
          }
        }
        return;
      } catch (err) {
        // An expiry costs nothing: no backoff, no step towards another protocol.
        if (err instanceof CredentialExpiredError) {
          options.onReconnect?.({ protocol, attempt: 0, reason: err.message });
          continue;
        }
        if (err instanceof RequestRefusedError || !(err instanceof ConnectionLostError)) throw err;
        if (signal.aborted) return;
        if (!received && !err.everConnected && !worked.has(protocol) && ++failures >= BLOCKED_AFTER) {
          const next = FALLBACK[FALLBACK.indexOf(protocol) + 1];
          if (next) {
            protocol = next;
            failures = 0;
          }
        }
        options.onReconnect?.({ protocol, attempt: ++attempt, reason: err.message });
        await sleep(backoffMs(attempt), signal);
      }
    }
  }

  /** Publishes one typed event: as protobuf over HTTP, or on a shared WebSocket in the client's codec. */
  async publish<S extends AnyStreamDescriptor>(
    stream: S,
    event: PublishableEvent<S>,
    options: PublishOptions = {},
  ): Promise<Published> {
    const { type, data } = event as { type: string; data: unknown };
    const eventType = stream.events[type];
    if (!eventType) throw new RequestRefusedError(400, "invalid_argument", `${stream.name} has no event type ${type}`);
    const message = eventType.codec.fromPartial(data as never);
    if (options.via === "ws") return this.#publishWs(stream.name, type, this.codec.publishedData(eventType.codec, message), options);
    // Binary over HTTP, whatever the codec: ts-proto's JSON drops the nanoseconds of a Timestamp.
    const bytes = eventType.codec.encode(message).finish();
    const headers: Record<string, string> = {
      ...(await this.#authorization()),
      "content-type": "application/x-protobuf",
      "streamgate-type": type,
    };
    if (options.key !== undefined) headers["streamgate-key"] = options.key;
    if (options.id !== undefined) headers["idempotency-key"] = options.id;
    const response = await fetch(`${this.#baseUrl}/v1/streams/${encodeURIComponent(stream.name)}/events`, {
      method: "POST",
      headers,
      // A copy typed as backed by an ArrayBuffer, which is what fetch's body type asks for.
      body: bytes.slice(),
    }).catch((err: unknown) => {
      throw new ConnectionLostError(`publish: ${(err as Error).message}`, false);
    });
    if (!response.ok) throw await RequestRefusedError.from(response);
    return (await response.json()) as Published;
  }

  /** Closes the shared publishing socket, if one was opened. */
  async close(): Promise<void> {
    const publisher = await this.#publisher?.catch(() => undefined);
    publisher?.socket.close(1000);
    this.#publisher = undefined;
  }

  #read(protocol: Protocol, stream: string, spec: ReadSpec, signal: AbortSignal, authorization: Record<string, string>): AsyncGenerator<Delivery> {
    if (protocol === "sse") return readSse({ baseUrl: this.#baseUrl, stream, spec, signal, headers: authorization });
    if (protocol === "poll") return readPoll({ baseUrl: this.#baseUrl, stream, spec, signal, headers: authorization }, this.codec.wire);
    return readWs(this.#socketFactory(authorization), this.#baseUrl, stream, spec, signal);
  }

  /** The Authorization header of a fresh token, or none without getToken. */
  async #authorization(): Promise<Record<string, string>> {
    return this.options.getToken ? { authorization: `Bearer ${await this.options.getToken()}` } : {};
  }

  #socketFactory(authorization: Record<string, string>): SocketFactory {
    const WebSocketImpl = this.#webSocket();
    if (!WebSocketImpl) throw new ConnectionLostError("no WebSocket implementation", false);
    const { webSocketOptions } = this.options;
    return {
      codec: this.codec.wire,
      WebSocket: WebSocketImpl,
      options: webSocketOptions && { ...webSocketOptions, headers: { ...webSocketOptions.headers, ...authorization } },
    };
  }

  #webSocket(): WebSocketConstructor | undefined {
    return this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }

  async #publishWs(stream: string, type: string, data: Uint8Array | Record<string, unknown>, options: PublishOptions): Promise<Published> {
    const { socket, pending } = await (this.#publisher ??= this.#openPublisher());
    if (!isOpen(socket)) {
      this.#publisher = undefined;
      throw new ConnectionLostError("WebSocket: not connected", false);
    }
    const ref = String(++this.#refs);
    const answer = new Promise<PublishAnswer>((resolve) => pending.set(ref, resolve));
    const event: EventInput =
      data instanceof Uint8Array
        ? { type, data, id: options.id, key: options.key }
        : { type, data, ...(options.id !== undefined && { id: options.id }), ...(options.key !== undefined && { key: options.key }) };
    send(this.codec.wire, socket, { op: "publish", ref, stream, event });
    const reply = await answer;
    if (reply?.op === "published") return { offset: reply.offset, id: reply.id, duplicate: reply.duplicate };
    if (reply?.op === "error") throw new RequestRefusedError(400, reply.code, reply.message);
    throw new ConnectionLostError("WebSocket closed before the publish was acknowledged", true);
  }

  async #openPublisher() {
    const factory = this.#socketFactory(await this.#authorization());
    const pending = new Map<string, (answer: PublishAnswer) => void>();
    const socket = await openSocket(
      factory,
      this.#baseUrl.replace(/^http/, "ws") + "/v1/ws",
      (message) => {
        if ((message.op !== "published" && message.op !== "error") || message.ref === undefined) return;
        pending.get(message.ref)?.(message);
        pending.delete(message.ref);
      },
      () => {
        // Everyone waiting learns the socket is gone; the next publish opens a new one.
        for (const resolve of pending.values()) resolve(undefined);
        pending.clear();
        this.#publisher = undefined;
      },
    );
    if (!isOpen(socket)) {
      this.#publisher = undefined;
      throw new ConnectionLostError("WebSocket: could not connect to publish", false);
    }
    return { socket, pending };
  }
}
