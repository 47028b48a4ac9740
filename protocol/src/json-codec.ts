import secureJson from "secure-json-parse";
import { z } from "zod";
import { receivedFromEnvelope, type Envelope } from "./envelope.js";
import { MAX_ID_LENGTH, SUBPROTOCOLS, type Frame, type ServerMessage, type WireCodec } from "./codec.js";
import { gapJson, type GapNotice } from "./position.js";
import { jsonEventInput } from "./publish.js";
import { readSpecFromJson, readSpecToJson } from "./read-spec.js";

const id = z.string().min(1).max(MAX_ID_LENGTH);
const clientFrames = z.discriminatedUnion("op", [
  z
    .object({
      op: z.literal("subscribe"),
      sub: id,
      stream: z.string().min(1),
      from: z.union([z.number(), z.literal("first"), z.literal("now")]).optional(),
      since: z.string().optional(),
      last: z.number().optional(),
      epoch: z.string().optional(),
      types: z.array(z.string()).optional(),
      key: z.string().optional(),
    })
    .strict(),
  z.object({ op: z.literal("unsubscribe"), sub: id }).strict(),
  jsonEventInput.extend({ op: z.literal("publish"), ref: id, stream: z.string().min(1) }).strict(),
  z.object({ op: z.literal("ping"), ref: z.string().max(MAX_ID_LENGTH).optional() }).strict(),
  z.object({ op: z.literal("auth"), ref: id, token: z.string().min(1) }).strict(),
]);

/** streamgate.v1.json: text frames. */
export const jsonCodec: WireCodec = {
  subprotocol: SUBPROTOCOLS.json,
  contentType: "application/json; charset=utf-8",

  encodeServer(message) {
    switch (message.op) {
      // The envelope's JSON is shared by every subscriber; only the wrapper is made per frame.
      case "event":
        return `{"op":"event","sub":${JSON.stringify(message.sub)},"event":${message.event.json}}`;
      case "gap":
        return JSON.stringify({ op: "gap", sub: message.sub, ...gapJson(message.gap) });
      case "error": {
        const { ref, sub, code, message: text } = message;
        return JSON.stringify({ op: "error", ...(ref && { ref }), ...(sub && { sub }), code, message: text });
      }
      case "unsubscribed":
        return JSON.stringify({ op: "unsubscribed", sub: message.sub, ...(message.reason && { reason: message.reason }) });
      default:
        return JSON.stringify(message);
    }
  },

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

  decodeClient(frame) {
    if (typeof frame !== "string") return { problem: `binary frames are not part of ${SUBPROTOCOLS.json}` };
    let json: unknown;
    try {
      // As HTTP bodies are parsed: a __proto__ or constructor key is refused, not silently lost.
      json = secureJson.parse(frame, undefined, { protoAction: "error", constructorAction: "error" });
    } catch {
      return { problem: "the frame is not JSON (or holds a __proto__ or constructor key)" };
    }
    const parsed = clientFrames.safeParse(json);
    if (!parsed.success) {
      const echo = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
      const issue = parsed.error.issues[0]!;
      return {
        problem: `${issue.path.join(".") || "frame"}: ${issue.message}`,
        ...(typeof echo.ref === "string" && { ref: echo.ref }),
        ...(typeof echo.sub === "string" && { sub: echo.sub }),
      };
    }
    const frameValue = parsed.data;
    switch (frameValue.op) {
      case "subscribe": {
        const { op, sub, stream, ...read } = frameValue;
        return { op, sub, stream, read: () => readSpecFromJson(read) };
      }
      case "publish": {
        const { op, ref, stream, ...event } = frameValue;
        return { op, ref, stream, event };
      }
      case "unsubscribe":
      case "auth":
        return frameValue;
      case "ping":
        return { op: "ping", ref: frameValue.ref ?? "" };
    }
  },

  // Written around each event's shared envelope JSON (which also keeps -0 intact).
  encodeBatch({ events, gap, ...rest }) {
    const tail = JSON.stringify({ ...rest, ...(gap && { gap: gapJson(gap) }) });
    return `{"events":[${events.map((e) => e.json).join(",")}],${tail.slice(1)}`;
  },

  decodeBatch(frame) {
    const batch = JSON.parse(text(frame)) as { events: Envelope[]; next: number; first_offset: number; last_offset: number; gap?: GapNotice };
    return { ...batch, events: batch.events.map(receivedFromEnvelope) };
  },
};

function text(frame: Frame): string {
  return typeof frame === "string" ? frame : new TextDecoder().decode(frame);
}
