import type { ClientMessage, ServerMessage } from "../../src/protocol/codec.js";
import type { ReceivedEvent } from "../../src/protocol/envelope.js";
import { isTemporary } from "../../src/protocol/errors.js";
import { protoCodec } from "../../src/protocol/proto-codec.js";
import type { ReadSpec } from "../../src/protocol/read-spec.js";
import type { Delivery } from "./events.js";
import { ConnectionLostError, RequestRefusedError } from "./query.js";

/** The WebSocket constructor to use: the browser's (or Node 22's), or the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** Opens a socket on the protobuf subprotocol; frames come decoded. */
export function openSocket(
  WebSocketImpl: WebSocketConstructor,
  url: string,
  onMessage: (message: ServerMessage<ReceivedEvent>) => void,
  onClose: (opened: boolean, reason: string) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocketImpl(url, protoCodec.subprotocol);
    } catch (err) {
      // Some environments refuse WebSockets outright: the same as one that never opens.
      reject(new ConnectionLostError(`WebSocket: ${(err as Error).message}`, false));
      return;
    }
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.onopen = () => {
      opened = true;
      resolve(socket);
    };
    socket.onmessage = (message: MessageEvent) => {
      if (message.data instanceof ArrayBuffer) onMessage(protoCodec.decodeServer(new Uint8Array(message.data)));
    };
    socket.onclose = (event: CloseEvent) => {
      onClose(opened, `closed with ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
      if (!opened) resolve(socket);
    };
  });
}

export function send(socket: WebSocket, message: ClientMessage): void {
  socket.send(protoCodec.encodeClient(message) as Uint8Array);
}

/** One subscription on its own socket. */
export async function* readWs(
  WebSocketImpl: WebSocketConstructor,
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
  const socket = await openSocket(
    WebSocketImpl,
    baseUrl.replace(/^http/, "ws") + "/v1/ws",
    (message) => {
      if (message.op === "event") push({ kind: "event", event: message.event });
      else if (message.op === "gap") push({ kind: "gap", gap: message.gap });
      // The gateway's own trouble passes; only a refusal of the request itself is final.
      else if (message.op === "error") {
        push(
          isTemporary(message.code)
            ? new ConnectionLostError(`WebSocket: ${message.message}`, true)
            : new RequestRefusedError(400, message.code, message.message),
        );
      } else if (message.op === "unsubscribed") push(new ConnectionLostError(`WebSocket: ${message.reason ?? "unsubscribed"}`, true));
    },
    (opened, reason) => push(new ConnectionLostError(`WebSocket: ${reason}`, opened)),
  );
  const close = () => socket.close(1000);
  signal.addEventListener("abort", close, { once: true });
  try {
    if (socket.readyState === socket.OPEN) send(socket, { op: "subscribe", sub, stream, read: spec });
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
