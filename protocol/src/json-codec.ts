import secureJson from "secure-json-parse";
import { z } from "zod";
import { MAX_ID_LENGTH, SUBPROTOCOLS, type WireCodec } from "./codec.js";
import { jsonClientCodec } from "./json-client-codec.js";
import { gapJson } from "./position.js";
import { jsonEventInput } from "./publish.js";
import { readSpecFromJson } from "./read-spec.js";

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

/** streamgate.v1.json: text frames. The client's half is jsonClientCodec; this adds the gateway's. */
export const jsonCodec: WireCodec = {
  ...jsonClientCodec,

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
};
