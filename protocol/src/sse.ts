import { receivedFromEnvelope, type Envelope, type ReceivedEvent, type WireEvent } from "./envelope.js";
import { gapJson, type GapNotice } from "./position.js";

/**
 * Server-Sent Events framing (PROTOCOL.md section 5.1): events have `id:` = offset and no
 * `event:` field, so EventSource.onmessage sees them all; notices are named events without id.
 */
export const sseFrames = {
  retry: (ms: number) => `retry: ${ms}\n\n`,
  event: (event: WireEvent) => `id: ${event.offset}\ndata: ${event.json}\n\n`,
  gap: (gap: GapNotice) => `event: gap\ndata: ${JSON.stringify(gapJson(gap))}\n\n`,
  /** The credential ran out (PROTOCOL.md section 9.3); the response ends after it. */
  expired: (expiresAt: number) => `event: expired\ndata: ${JSON.stringify({ expires_at: expiresAt })}\n\n`,
  keepAlive: ": keep-alive\n\n",
};

/** One dispatched SSE message, as the WHATWG parsing rules give it. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

export type SseItem = { kind: "event"; event: ReceivedEvent } | { kind: "gap"; gap: GapNotice } | { kind: "other"; message: SseMessage };

/** Reads a text/event-stream body chunk by chunk (any chunking), yielding complete messages. */
export class SseParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #id: string | undefined;

  *push(chunk: string): Generator<SseMessage> {
    this.#buffer += chunk;
    let newline: number;
    while ((newline = this.#buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.#buffer.slice(0, newline);
      // A lone \r at the end of a chunk may be half of \r\n: wait for more.
      if (this.#buffer[newline] === "\r" && newline === this.#buffer.length - 1) break;
      this.#buffer = this.#buffer.slice(newline + (this.#buffer.startsWith("\r\n", newline) ? 2 : 1));
      const message = this.#line(line);
      if (message) yield message;
    }
  }

  #line(line: string): SseMessage | undefined {
    if (line === "") {
      const message = this.#data.length > 0 ? { event: this.#event || "message", data: this.#data.join("\n"), id: this.#id } : undefined;
      this.#event = "";
      this.#data = [];
      return message;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#id = value;
    return undefined;
  }
}

/** What a streamgate SSE message carries. */
export function sseItem(message: SseMessage): SseItem {
  if (message.event === "message") return { kind: "event", event: receivedFromEnvelope(JSON.parse(message.data) as Envelope) };
  if (message.event === "gap") return { kind: "gap", gap: JSON.parse(message.data) as GapNotice };
  return { kind: "other", message };
}
