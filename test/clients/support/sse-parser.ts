/** One dispatched Server-Sent Event, as the text/event-stream parsing rules build it. */
export interface SseMessage {
  /** The `id:` field of this event, if it had one (not the carried-over last event id). */
  id?: string;
  /** The `event:` field, if any; absent means a plain `message`. */
  event?: string;
  data: string;
}

/**
 * An incremental text/event-stream parser (the WHATWG rules, minus lone-CR line ends), for
 * tests that read the raw wire: it also keeps the `retry:` values, the comment count and the
 * first line of the stream, which EventSource clients do not expose. Cheap enough for tens of
 * megabytes.
 */
export class SseParser {
  readonly retries: number[] = [];
  comments = 0;
  firstLine: string | undefined;
  private buffer = "";
  private data: string[] = [];
  private id: string | undefined;
  private event: string | undefined;

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const end = this.buffer.indexOf("\n", start);
      if (end < 0) break;
      let line = this.buffer.slice(start, end);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      start = end + 1;
      if (this.firstLine === undefined) this.firstLine = line;
      const message = this.line(line);
      if (message) out.push(message);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") {
      // An event without any data line is not dispatched (the spec's empty data buffer).
      const message: SseMessage | undefined = this.data.length === 0 ? undefined : { data: this.data.join("\n") };
      if (message && this.id !== undefined) message.id = this.id;
      if (message && this.event !== undefined) message.event = this.event;
      this.data = [];
      this.id = undefined;
      this.event = undefined;
      return message;
    }
    if (line.startsWith(":")) {
      this.comments++;
      return undefined;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "id":
        this.id = value;
        break;
      case "event":
        this.event = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retries.push(Number(value));
        break;
    }
    return undefined;
  }
}
