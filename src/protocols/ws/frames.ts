import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { z } from "zod";
import type { StoreResult } from "../../backbone/publish.js";
import type { StreamState } from "../../backbone/stream-state.js";
import type { EncodedEvent } from "../../fanout/encoded-event.js";
import type { GapNotice, PositionFields } from "../../protocol/position.js";
import { Anchor, ClientFrame, ServerFrame } from "../../../generated/ts/streamgate/v1/frames.js";
import type { ErrorCode } from "../../gateway/errors.js";
import { jsonEventInput, type BinaryEventInput, type JsonEventInput } from "../../publishing/event-input.js";

export const JSON_SUBPROTOCOL = "streamgate.v1.json";
export const PROTO_SUBPROTOCOL = "streamgate.v1.proto";

/** A client operation, whichever subprotocol carried it. */
export type ClientOp =
  | {
      op: "subscribe";
      sub: string;
      stream: string;
      /** Position parameters as the client gave them; checked by the session. */
      position: PositionFields;
      epoch?: string;
      types?: string[];
      key?: string;
    }
  | { op: "unsubscribe"; sub: string }
  | { op: "publish"; ref: string; stream: string; event: JsonEventInput | BinaryEventInput }
  | { op: "ping"; ref: string };


/** A frame the server could not take; `ref`/`sub` are echoed when they could be read. */
export interface FrameProblem {
  code: ErrorCode;
  message: string;
  ref?: string;
  sub?: string;
}

export type Frame = string | Uint8Array;

export interface FrameCodec {
  readonly subprotocol: string;
  decode(data: Buffer, isBinary: boolean): ClientOp | FrameProblem;
  subscribed(sub: string, state: StreamState): Frame;
  event(sub: string, event: EncodedEvent): Frame;
  gap(sub: string, gap: GapNotice): Frame;
  unsubscribed(sub: string, reason?: string): Frame;
  published(ref: string, result: StoreResult): Frame;
  error(problem: FrameProblem): Frame;
  pong(ref: string): Frame;
}

const id = z.string().min(1).max(128);
const jsonFrames = z.discriminatedUnion("op", [
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
  z.object({ op: z.literal("ping"), ref: z.string().max(128).optional() }).strict(),
]);

export const jsonCodec: FrameCodec = {
  subprotocol: JSON_SUBPROTOCOL,
  decode(data, isBinary) {
    if (isBinary) return { code: "invalid_argument", message: `binary frames are not part of ${JSON_SUBPROTOCOL}` };
    let json: unknown;
    try {
      json = JSON.parse(data.toString("utf8"));
    } catch {
      return { code: "invalid_argument", message: "the frame is not JSON" };
    }
    const parsed = jsonFrames.safeParse(json);
    if (!parsed.success) {
      const echo = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
      const issue = parsed.error.issues[0]!;
      return {
        code: "invalid_argument",
        message: `${issue.path.join(".") || "frame"}: ${issue.message}`,
        ...(typeof echo.ref === "string" && { ref: echo.ref }),
        ...(typeof echo.sub === "string" && { sub: echo.sub }),
      };
    }
    const frame = parsed.data;
    switch (frame.op) {
      case "subscribe": {
        return {
          op: "subscribe",
          sub: frame.sub,
          stream: frame.stream,
          position: { from: frame.from, since: frame.since, last: frame.last },
          ...(frame.epoch !== undefined && { epoch: frame.epoch }),
          // An empty list filters nothing, as an empty repeated field does in the proto form.
          ...(frame.types?.length && { types: frame.types }),
          ...(frame.key !== undefined && { key: frame.key }),
        };
      }
      case "publish": {
        const { op: _op, ref, stream, ...event } = frame;
        return { op: "publish", ref, stream, event };
      }
      case "unsubscribe":
        return frame;
      case "ping":
        return { op: "ping", ref: frame.ref ?? "" };
    }
  },
  subscribed: (sub, s) =>
    JSON.stringify({
      op: "subscribed",
      sub,
      stream: s.name,
      first_offset: s.firstOffset,
      last_offset: s.lastOffset,
      epoch: s.epoch,
    }),
  // The envelope's JSON is shared by every subscriber; only the wrapper is made per frame.
  event: (sub, event) => `{"op":"event","sub":${JSON.stringify(sub)},"event":${event.json}}`,
  gap: (sub, gap) => JSON.stringify({ op: "gap", sub, ...gap }),
  unsubscribed: (sub, reason) => JSON.stringify({ op: "unsubscribed", sub, ...(reason && { reason }) }),
  published: (ref, r) => JSON.stringify({ op: "published", ref, offset: r.offset, id: r.id, duplicate: r.duplicate }),
  error: (p) => JSON.stringify({ op: "error", ...(p.ref && { ref: p.ref }), ...(p.sub && { sub: p.sub }), code: p.code, message: p.message }),
  pong: (ref) => JSON.stringify({ op: "pong", ref }),
};

export const protoCodec: FrameCodec = {
  subprotocol: PROTO_SUBPROTOCOL,
  decode(data, isBinary) {
    if (!isBinary) return { code: "invalid_argument", message: `text frames are not part of ${PROTO_SUBPROTOCOL}` };
    let frame: ClientFrame;
    try {
      frame = ClientFrame.decode(data);
    } catch (err) {
      return { code: "invalid_argument", message: `the frame is not a streamgate.v1.ClientFrame: ${(err as Error).message}` };
    }
    const op = frame.op;
    const badId = checkIds(op);
    if (badId) return badId;
    switch (op?.$case) {
      case "subscribe": {
        const s = op.value;
        const p = s.position;
        const position: PositionFields = {};
        if (p?.$case === "from") position.from = Number(p.value);
        else if (p?.$case === "anchor") position.from = p.value === Anchor.ANCHOR_FIRST ? "first" : "now";
        else if (p?.$case === "since") position.since = rfc3339(p.value.seconds, p.value.nanos);
        else if (p?.$case === "last") position.last = p.value;
        return {
          op: "subscribe",
          sub: s.sub,
          stream: s.stream,
          position,
          ...(s.epoch !== "" && { epoch: s.epoch }),
          ...(s.types.length > 0 && { types: s.types }),
          ...(s.key !== undefined && { key: s.key }),
        };
      }
      case "unsubscribe":
        return { op: "unsubscribe", sub: op.value.sub };
      case "publish": {
        const { ref, stream, type, data: bytes, key, id: eventId } = op.value;
        return {
          op: "publish",
          ref,
          stream,
          event: { type: type || undefined, key, id: eventId || undefined, data: bytes },
        };
      }
      case "ping":
        return { op: "ping", ref: op.value.ref };
      default:
        return { code: "invalid_argument", message: "the ClientFrame has no operation" };
    }
  },
  subscribed: (sub, s) =>
    server({
      $case: "subscribed",
      value: {
        sub,
        stream: s.name,
        firstOffset: BigInt(s.firstOffset),
        lastOffset: BigInt(s.lastOffset),
        epoch: s.epoch,
      },
    }),
  // ServerFrame{event: EventDelivery{sub, event}} written around the event's shared encoding.
  event: (sub, event) => {
    const delivery = new BinaryWriter().tag(1, WireType.LengthDelimited).string(sub);
    delivery.tag(2, WireType.LengthDelimited).bytes(event.proto);
    return new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(delivery.finish()).finish();
  },
  gap: (sub, g) =>
    server({
      $case: "gap",
      value: { sub, gap: { stream: g.stream, requested: BigInt(g.requested), first: BigInt(g.first), epoch: g.epoch } },
    }),
  unsubscribed: (sub, reason) => server({ $case: "unsubscribed", value: { sub, reason: reason ?? "" } }),
  published: (ref, r) =>
    server({ $case: "published", value: { ref, offset: BigInt(r.offset), id: r.id, duplicate: r.duplicate } }),
  error: (p) => server({ $case: "error", value: { ref: p.ref ?? "", sub: p.sub ?? "", code: p.code, message: p.message } }),
  pong: (ref) => server({ $case: "pong", value: { ref } }),
};

/** A Timestamp as RFC 3339 with all nine digits, which a Date would cut to milliseconds. */
function rfc3339(seconds: bigint, nanos: number): string {
  const date = new Date(Number(seconds) * 1000);
  // Out of a Date's range: left as a string no position accepts, so it is refused as such.
  if (Number.isNaN(date.getTime()) || nanos < 0 || nanos > 999_999_999) return `${seconds}s+${nanos}ns`;
  return `${date.toISOString().slice(0, 19)}.${String(nanos).padStart(9, "0")}Z`;
}

/** The proto form has no schema for ids: the same 1 to 128 characters the JSON form requires. */
function checkIds(op: ClientFrame["op"]): FrameProblem | undefined {
  if (!op || op.$case === "ping") return undefined;
  const [name, value] = op.$case === "publish" ? ["ref", op.value.ref] : ["sub", op.value.sub];
  if (value.length >= 1 && value.length <= 128) return undefined;
  return { code: "invalid_argument", message: `${name} must be 1 to 128 characters` };
}

function server(op: NonNullable<ServerFrame["op"]>): Uint8Array {
  return ServerFrame.encode({ op }).finish();
}
