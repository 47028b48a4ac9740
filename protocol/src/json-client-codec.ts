import { receivedFromEnvelope, type Envelope } from "./envelope.js";
import { SUBPROTOCOLS, type ClientWireCodec, type Frame, type ServerMessage } from "./codec.js";
import type { GapNotice } from "./position.js";
import { readSpecToJson } from "./read-spec.js";

/**
 * The client's half of streamgate.v1.json: what it sends, and reading what the gateway sends.
 * Apart from the gateway's half (json-codec.ts), which checks client frames with zod, so a
 * browser bundle of a JSON client holds none of that.
 */
export const jsonClientCodec: ClientWireCodec = {
  subprotocol: SUBPROTOCOLS.json,
  contentType: "application/json; charset=utf-8",

  decodeServer(frame) {
    const json = JSON.parse(text(frame)) as Record<string, unknown> & { op: string };
    if (json.op === "event") return { op: "event", sub: json.sub as string, event: receivedFromEnvelope(json.event as Envelope) };
    if (json.op === "gap") {
      const { op: _op, sub, ...gap } = json;
      return { op: "gap", sub: sub as string, gap: gap as unknown as GapNotice };
    }
    return json as unknown as ServerMessage<never>;
  },

  encodeClient(message) {
    if (message.op === "subscribe") {
      const { read, ...rest } = message;
      return JSON.stringify({ ...rest, ...readSpecToJson(read) });
    }
    if (message.op === "publish") {
      const { event, ...rest } = message;
      if (event.data instanceof Uint8Array) throw new TypeError(`${SUBPROTOCOLS.json} publishes JSON data, not bytes`);
      return JSON.stringify({ ...rest, ...event });
    }
    return JSON.stringify(message);
  },

  decodeBatch(frame) {
    const batch = JSON.parse(text(frame)) as { events: Envelope[]; next: number; first_offset: number; last_offset: number; gap?: GapNotice };
    return { ...batch, events: batch.events.map(receivedFromEnvelope) };
  },
};

function text(frame: Frame): string {
  return typeof frame === "string" ? frame : new TextDecoder().decode(frame);
}
