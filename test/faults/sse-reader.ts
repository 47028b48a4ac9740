/** A Server-Sent Events reader (PROTOCOL.md 5.1) that resumes with Last-Event-ID. */
import { SseParser, sseItem } from "@streamgate/protocol/sse";
import { Reader } from "./reader.js";

/** How long the response headers may take. */
const HEADERS_TIMEOUT_MS = 15_000;

export class SseReader extends Reader {
  readonly #from: number;

  constructor(baseUrl: string, name: string, from: number) {
    super(baseUrl, "sse", name, from);
    this.#from = from;
  }

  protected async readOnce(signal: AbortSignal): Promise<void> {
    const headersTimeout = new AbortController();
    const timer = setTimeout(() => headersTimeout.abort(), HEADERS_TIMEOUT_MS);
    const resume: Record<string, string> = this.next > this.#from ? { "last-event-id": String(this.next - 1) } : {};
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/v1/streams/orders/sse?from=${this.#from}`, {
        headers: { accept: "text/event-stream", ...resume },
        signal: AbortSignal.any([signal, headersTimeout.signal]),
      });
    } finally {
      clearTimeout(timer);
    }
    if (response.status !== 200 || !response.body) {
      this.saw(response.status, response.headers.has("retry-after"), `answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      return;
    }
    const parser = new SseParser();
    const body = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (let chunk = await body.read(); !chunk.done; chunk = await body.read()) {
        for (const message of parser.push(chunk.value)) {
          const item = sseItem(message);
          if (item.kind === "event") this.received(item.event);
          else if (item.kind === "gap") this.log.gaps++;
        }
      }
    } finally {
      void body.cancel().catch(() => undefined);
    }
  }
}
