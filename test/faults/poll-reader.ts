/** A long-poll reader (PROTOCOL.md 5.2) chaining `next`. */
import type { Envelope } from "@streamgate/protocol/envelope";
import { Reader } from "./reader.js";

const WAIT_SECONDS = 10;
/** A poll not answered by then is given up on, and asked again. */
const ANSWER_TIMEOUT_MS = (WAIT_SECONDS + 15) * 1_000;

interface Batch {
  events: Envelope[];
  next: number;
  gap?: unknown;
}

export class PollReader extends Reader {
  constructor(baseUrl: string, name: string, from: number) {
    super(baseUrl, "poll", name, from);
  }

  /** Polls one after another until one fails; then the reader pauses and polls again. */
  protected async readOnce(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const response = await fetch(`${this.baseUrl}/v1/streams/orders/poll?from=${this.next}&wait=${WAIT_SECONDS}&max=1000`, {
        headers: { accept: "application/json" },
        signal: AbortSignal.any([signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]),
      });
      const text = await response.text();
      if (response.status !== 200) {
        this.saw(response.status, response.headers.has("retry-after"), `answered ${response.status}: ${text.slice(0, 200)}`);
        return;
      }
      const batch = JSON.parse(text) as Batch;
      if (batch.gap) this.log.gaps++;
      for (const event of batch.events) this.received(event);
      this.next = batch.next;
    }
  }
}
