import type { ClientMessage, ClientWireCodec, ServerMessage } from "@streamgate/protocol/codec";
import type { ReceivedEvent } from "@streamgate/protocol/envelope";
import { ERROR_CATALOG, isTemporary } from "@streamgate/protocol/errors";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import type { Delivery } from "./events.js";
import { ConnectionLostError, CredentialExpiredError, RequestRefusedError } from "./query.js";

/** Options for a WebSocket constructor that takes them (the `ws` package's, e.g. headers or an agent). */
export type WebSocketOptions = { headers?: Record<string, string> } & Record<string, unknown>;

/**
 * What the client uses of a WebSocket. The browser's, Node's own and the `ws` package's all
 * have it, so any of them is accepted as it is. Listeners are methods, not `on…` properties:
 * the three declare their event types differently, and methods are compared more leniently.
 */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
}

/** The ready state of an open socket, the same number everywhere. */
const OPEN = 1;

export const isOpen = (socket: SocketLike): boolean => socket.readyState === OPEN;

/** The WebSocket constructor to use: the browser's (or Node 22's), or the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols: string, options?: WebSocketOptions) => SocketLike;

/** How sockets are opened: the codec (its subprotocol), the constructor, and the options it is given (undefined: none, as in browsers). */
export interface SocketFactory {
  codec: ClientWireCodec;
  WebSocket: WebSocketConstructor;
  options: WebSocketOptions | undefined;
}

/** Opens a socket on the codec's subprotocol; frames come decoded. */
export function openSocket(
  factory: SocketFactory,
  url: string,
  onMessage: (message: ServerMessage<ReceivedEvent>) => void,
  onClose: (opened: boolean, code: number, reason: string) => void,
): Promise<SocketLike> {
  return new Promise((resolve, reject) => {
    let socket: SocketLike;
    try {
      socket = factory.options
        ? new factory.WebSocket(url, factory.codec.subprotocol, factory.options)
        : new factory.WebSocket(url, factory.codec.subprotocol);
    } catch (err) {
      // Some environments refuse WebSockets outright: the same as one that never opens.
      reject(new ConnectionLostError(`WebSocket: ${(err as Error).message}`, false));
      return;
    }
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      resolve(socket);
    });
    socket.addEventListener("message", (message) => {
      const { data } = message;
      if (data instanceof ArrayBuffer) onMessage(factory.codec.decodeServer(new Uint8Array(data)));
      else if (typeof data === "string") onMessage(factory.codec.decodeServer(data));
    });
    socket.addEventListener("close", (event) => {
      onClose(opened, event.code, `closed with ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
      if (!opened) resolve(socket);
    });
  });
}

export function send(codec: ClientWireCodec, socket: SocketLike, message: ClientMessage): void {
  socket.send(codec.encodeClient(message));
}

/**
 * One subscription on its own socket. Once subscribed, the credential running out (an error
 * `unauthenticated`, a close with 1008) is a CredentialExpiredError: a fresh one resumes the read.
 */
export async function* readWs(
  factory: SocketFactory,
  baseUrl: string,
  stream: string,
  spec: ReadSpec,
  signal: AbortSignal,
): AsyncGenerator<Delivery> {
  const queue: (Delivery | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: Delivery | Error) => {
    queue.push(item);
    wake?.();
  };
  const sub = "s";
  let subscribed = false;
  const expiredOr = (refusal: Error) => (subscribed ? new CredentialExpiredError("WebSocket: the credential expired") : refusal);
  const socket = await openSocket(
    factory,
    baseUrl.replace(/^http/, "ws") + "/v1/ws",
    (message) => {
      if (message.op === "subscribed") subscribed = true;
      else if (message.op === "event") push({ kind: "event", event: message.event });
      else if (message.op === "gap") push({ kind: "gap", gap: message.gap });
      // The gateway's own trouble passes; only a refusal of the request itself is final.
      else if (message.op === "error") {
        const status = (ERROR_CATALOG as Record<string, { status: number } | undefined>)[message.code]?.status ?? 400;
        const refusal = new RequestRefusedError(status, message.code, message.message);
        push(
          isTemporary(message.code)
            ? new ConnectionLostError(`WebSocket: ${message.message}`, true)
            : message.code === "unauthenticated"
              ? expiredOr(refusal)
              : refusal,
        );
      } else if (message.op === "unsubscribed") push(new ConnectionLostError(`WebSocket: ${message.reason ?? "unsubscribed"}`, true));
    },
    (opened, code, reason) => {
      const lost = new ConnectionLostError(`WebSocket: ${reason}`, opened);
      push(code === ERROR_CATALOG.unauthenticated.close ? expiredOr(lost) : lost);
    },
  );
  const close = () => socket.close(1000);
  signal.addEventListener("abort", close, { once: true });
  try {
    if (isOpen(socket)) send(factory.codec, socket, { op: "subscribe", sub, stream, read: spec });
    while (!signal.aborted) {
      const item = queue.shift();
      if (!item) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (item instanceof Error) {
        if (signal.aborted) return;
        throw item;
      }
      yield item;
    }
  } finally {
    signal.removeEventListener("abort", close);
    close();
  }
}
