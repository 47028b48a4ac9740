import type { JsonValue } from "@bufbuild/protobuf";
import type { EncodedEvent } from "../fanout/encoded-event.js";
import type { StoredEvent } from "../backbone/stored-event.js";
import { stringifyJson } from "../schema/json.js";
import type { Webhook } from "./registration.js";

/** The part of a delivery that depends on the event and the format, not on the webhook or the attempt. */
export interface Payload {
  body: string | Buffer;
  headers: Readonly<Record<string, string>>;
}

/**
 * An event as webhooks send it. Its body and headers are made once per format, on first use,
 * and shared by every webhook of the stream that sends it (see SharedEvents): only the
 * signature, timestamp and attempt number are made per delivery.
 */
export class WebhookEvent {
  #envelope?: Payload;
  #cloudEvents?: Payload;

  constructor(readonly encoded: EncodedEvent) {}

  get stored(): StoredEvent {
    return this.encoded.stored;
  }

  payload(format: Webhook["format"]): Payload {
    if (format === "cloudevents") return (this.#cloudEvents ??= this.#cloudEventsPayload());
    return (this.#envelope ??= { body: this.encoded.json, headers: { "content-type": "application/json", ...this.#common() } });
  }

  /** CloudEvents 1.0 HTTP binary mode: the data as the body, the attributes in ce- headers. */
  #cloudEventsPayload(): Payload {
    const { stored } = this;
    const { data } = this.encoded.envelope();
    const headers: Record<string, string> = {
      "ce-specversion": "1.0",
      "ce-id": stored.id,
      "ce-type": stored.type,
      "ce-source": `/streams/${stored.stream}`,
      "ce-time": stored.time.toISOString(),
      ...(stored.key !== undefined && { "ce-subject": cloudEventsHeaderValue(stored.key) }),
      "content-type": data === null ? "application/x-protobuf" : "application/json",
      ...this.#common(),
    };
    return { body: data === null ? Buffer.from(stored.data) : stringifyJson(data as JsonValue), headers };
  }

  #common(): Record<string, string> {
    const { stored } = this;
    return { "webhook-id": stored.id, "streamgate-stream": stored.stream, "streamgate-offset": String(stored.offset) };
  }
}

/**
 * An attribute as a CloudEvents HTTP header value (binding 3.1.3.2): its UTF-8 bytes, with
 * everything but printable ASCII, and space, `"` and `%`, percent-encoded. A key is any string;
 * sent as it is, a non-ASCII one is no valid header and the delivery could never be made.
 */
export function cloudEventsHeaderValue(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25;
    out += plain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
