/** A WebSocket reader (PROTOCOL.md 5.4, JSON subprotocol): one subscription per connection. */
import WebSocket from "ws";
import { ERROR_CATALOG, isErrorCode } from "@streamgate/protocol/errors";
import { Reader, type EventSeen } from "./reader.js";

type ServerFrame =
  | { op: "event"; event: EventSeen }
  | { op: "gap" }
  | { op: "error"; code: string; message: string }
  | { op: "unsubscribed"; reason?: string }
  | { op: "subscribed" | "pong" };

/** Close codes that say the server failed (1011) or was unavailable (1013, come back later). */
const CLOSE_STATUS: Record<number, { status: number; retryAfter: boolean }> = {
  1011: { status: ERROR_CATALOG.internal.status, retryAfter: false },
  1013: { status: ERROR_CATALOG.unavailable.status, retryAfter: true },
};

export class WsReader extends Reader {
  constructor(baseUrl: string, name: string, from: number) {
    super(baseUrl, "ws", name, from);
  }

  protected readOnce(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const socket = new WebSocket(`${this.baseUrl.replace(/^http/, "ws")}/v1/ws`, "streamgate.v1.json", { handshakeTimeout: 15_000 });
      const abort = () => socket.terminate();
      signal.addEventListener("abort", abort, { once: true });
      socket.on("unexpected-response", (_request, response) => {
        this.saw(response.statusCode ?? 0, response.headers["retry-after"] !== undefined, `upgrade answered ${response.statusCode}`);
        response.resume();
        socket.terminate();
      });
      socket.on("open", () => socket.send(JSON.stringify({ op: "subscribe", sub: "s", stream: "orders", from: this.next })));
      socket.on("message", (data: WebSocket.RawData) => this.#frame(socket, JSON.parse(data.toString()) as ServerFrame));
      socket.on("error", () => undefined); // it closes next, and the reader connects again
      socket.on("close", (code: number) => {
        signal.removeEventListener("abort", abort);
        const failed = CLOSE_STATUS[code];
        if (failed && !signal.aborted) this.saw(failed.status, failed.retryAfter, `closed with ${code}`);
        resolve();
      });
    });
  }

  #frame(socket: WebSocket, frame: ServerFrame): void {
    if (frame.op === "event") this.received(frame.event);
    else if (frame.op === "gap") this.log.gaps++;
    else if (frame.op === "error" || frame.op === "unsubscribed") {
      if (frame.op === "error") {
        const status = isErrorCode(frame.code) ? ERROR_CATALOG[frame.code].status : 0;
        this.saw(status, frame.code === "unavailable", `error frame ${frame.code}: ${frame.message}`);
      }
      // The subscription is over: a new connection resumes it.
      socket.close(1000);
    }
  }
}
