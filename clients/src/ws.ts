import { Anchor, ClientFrame, ServerFrame } from "../../generated/ts/streamgate/v1/frames.js";
import type { Timestamp } from "../../generated/ts/google/protobuf/timestamp.js";
import { fromEventMessage, type Delivery } from "./events.js";
import { ConnectionLostError, RequestRefusedError, type ReadSpec } from "./query.js";

/** The WebSocket constructor to use: the browser's (or Node 22's), or the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

export const PROTO_SUBPROTOCOL = "streamgate.v1.proto";

/** Opens a socket on the protobuf subprotocol; frames come as ServerFrame values. */
export function openSocket(
  WebSocketImpl: WebSocketConstructor,
  url: string,
  onFrame: (frame: ServerFrame) => void,
  onClose: (opened: boolean, reason: string) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocketImpl(url, PROTO_SUBPROTOCOL);
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
      if (message.data instanceof ArrayBuffer) onFrame(ServerFrame.decode(new Uint8Array(message.data)));
    };
    socket.onclose = (event: CloseEvent) => {
      onClose(opened, `closed with ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
      if (!opened) resolve(socket);
    };
  });
}

export function send(socket: WebSocket, frame: ClientFrame): void {
  socket.send(ClientFrame.encode(frame).finish());
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
    (frame) => {
      const op = frame.op;
      if (op?.$case === "event" && op.value.event) push({ kind: "event", event: fromEventMessage(op.value.event) });
      else if (op?.$case === "gap" && op.value.gap) {
        const g = op.value.gap;
        push({ kind: "gap", gap: { stream: g.stream, requested: Number(g.requested), first: Number(g.first), epoch: g.epoch } });
      } else if (op?.$case === "error") {
        // The gateway's own trouble passes; only a refusal of the request itself is final.
        const passing = ["internal", "unavailable", "rate_limited"].includes(op.value.code);
        push(passing ? new ConnectionLostError(`WebSocket: ${op.value.message}`, true) : new RequestRefusedError(400, op.value.code, op.value.message));
      } else if (op?.$case === "unsubscribed") push(new ConnectionLostError(`WebSocket: ${op.value.reason || "unsubscribed"}`, true));
    },
    (opened, reason) => push(new ConnectionLostError(`WebSocket: ${reason}`, opened)),
  );
  const close = () => socket.close(1000);
  signal.addEventListener("abort", close, { once: true });
  try {
    if (socket.readyState === socket.OPEN) {
      send(socket, { op: { $case: "subscribe", value: subscribeFrame(sub, stream, spec) } });
    }
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

function subscribeFrame(sub: string, stream: string, spec: ReadSpec) {
  return {
    sub,
    stream,
    position: positionOf(spec.position),
    epoch: spec.epoch ?? "",
    types: [...(spec.types ?? [])],
    ...(spec.key !== undefined && { key: spec.key }),
  };
}

function positionOf({ from, since, last }: ReadSpec["position"]) {
  if (since !== undefined) return { $case: "since" as const, value: timestamp(since) };
  if (last !== undefined) return { $case: "last" as const, value: last };
  if (typeof from === "number") return { $case: "from" as const, value: BigInt(from) };
  return { $case: "anchor" as const, value: from === "first" ? Anchor.ANCHOR_FIRST : Anchor.ANCHOR_NOW };
}

/** An RFC 3339 string keeps its nanoseconds; a Date has milliseconds. */
function timestamp(time: Date | string): Timestamp {
  const date = typeof time === "string" ? new Date(time) : time;
  const fraction = typeof time === "string" ? /\.(\d+)/.exec(time)?.[1] : undefined;
  const nanos = fraction ? Number(fraction.slice(0, 9).padEnd(9, "0")) : (date.getTime() % 1000) * 1e6;
  return { seconds: BigInt(Math.floor(date.getTime() / 1000)), nanos };
}
