/**
 * A small Server-Sent Events client over fetch's body stream, for black-box protocol tests.
 * It keeps everything the server wrote: the raw text, comment lines and each dispatched
 * message with its fields in order, so tests can check the wire format itself, not only
 * what an EventSource would surface.
 */
import type { Envelope, GapNoticeJson, ReadItem } from "./envelope.js";
import { Observed } from "./observed.js";

export type SseItem =
  | { kind: "comment"; text: string }
  | {
      kind: "message";
      /** Every field line of the message, in order, as [name, value]. */
      fields: [string, string][];
      id?: string;
      event?: string;
      /** The data lines joined with "\n", as EventSource does; undefined when there was none. */
      data?: string;
      retry?: string;
    };

export type SseMessage = Extract<SseItem, { kind: "message" }>;

/** Splits an SSE body into items; feed it chunks of text, it yields what each completes. */
export class SseParser {
  private buffer = "";
  private fields: [string, string][] = [];
  /** A "\r" ended the last chunk: a "\n" starting the next one belongs to it. */
  private pendingCR = false;

  push(chunk: string): SseItem[] {
    if (this.pendingCR && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.pendingCR = false;
    this.buffer += chunk;
    const items: SseItem[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      if (match[0] === "\r" && match.index === this.buffer.length - 1) {
        this.pendingCR = true;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const item = this.line(line);
      if (item) items.push(item);
    }
    return items;
  }

  private line(line: string): SseItem | undefined {
    if (line === "") {
      if (this.fields.length === 0) return undefined;
      const fields = this.fields;
      this.fields = [];
      const message: SseMessage = { kind: "message", fields };
      const data = fields.filter(([name]) => name === "data").map(([, value]) => value);
      if (data.length > 0) message.data = data.join("\n");
      for (const [name, value] of fields) {
        if (name === "id") message.id = value;
        if (name === "event") message.event = value;
        if (name === "retry") message.retry = value;
      }
      return message;
    }
    if (line.startsWith(":")) return { kind: "comment", text: line.slice(1).replace(/^ /, "") };
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    this.fields.push([name, value]);
    return undefined;
  }
}

export interface OpenSseOptions {
  headers?: Record<string, string>;
  /** How long to wait for the response headers. */
  timeoutMs?: number;
}

/**
 * One SSE response being read in the background. Abort it with close(); every wait has a
 * timeout, so a test never hangs on a stream that stays open.
 */
export class SseConnection extends Observed {
  readonly items: SseItem[] = [];
  /** Date.now() when each item arrived. */
  readonly arrivals: number[] = [];
  raw = "";
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    super();
  }

  get status(): number {
    return this.response.status;
  }

  get headers(): Headers {
    return this.response.headers;
  }

  /** Opens the stream and waits for the response headers (not for any frame). */
  static async open(url: string, options: OpenSseOptions = {}): Promise<SseConnection> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no SSE response headers within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: "text/event-stream", ...options.headers }, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
    const connection = new SseConnection(response, controller);
    if (response.ok && response.body) connection.loop = connection.read(response.body);
    return connection;
  }

  /** Messages that are events: no `event:` field, with data (EventSource's onmessage). */
  envelopes(): Envelope[] {
    return this.messages()
      .filter((m) => m.event === undefined && m.data !== undefined)
      .map((m) => JSON.parse(m.data!) as Envelope);
  }

  offsets(): number[] {
    return this.envelopes().map((e) => e.offset);
  }

  messages(): SseMessage[] {
    return this.items.filter((item): item is SseMessage => item.kind === "message");
  }

  /** Gap notices and events, in the order they came. */
  readItems(): ReadItem[] {
    const out: ReadItem[] = [];
    for (const m of this.messages()) {
      if (m.event === "gap") out.push({ kind: "gap", gap: JSON.parse(m.data!) as GapNoticeJson });
      else if (m.event === undefined && m.data !== undefined) out.push({ kind: "event", event: JSON.parse(m.data) as Envelope });
    }
    return out;
  }

  /** Resolves with the envelopes once at least `count` events have arrived. */
  async waitForEvents(count: number, timeoutMs = 10_000): Promise<Envelope[]> {
    await this.until(() => this.envelopes().length >= count, `${count} events`, timeoutMs);
    return this.envelopes();
  }

  /** Waits `quietMs`, then returns the items that arrived meanwhile. */
  async quiet(quietMs: number): Promise<SseItem[]> {
    const before = this.items.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    return this.items.slice(before);
  }

  /** Aborts the request and waits for the read loop to end. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  protected describe(): string {
    const offsets = this.offsets();
    const shown = offsets.length > 20 ? [...offsets.slice(0, 10), "...", ...offsets.slice(-10)] : offsets;
    return `${this.items.length} items, events at offsets [${shown.join(",")}], raw so far ${JSON.stringify(this.raw.slice(0, 300))}`;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        this.raw += text;
        const items = parser.push(text);
        if (items.length === 0) continue;
        const now = Date.now();
        for (const item of items) {
          this.items.push(item);
          this.arrivals.push(now);
        }
        this.changed();
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.failure = err;
    } finally {
      this.ended = true;
      this.changed();
    }
  }
}
