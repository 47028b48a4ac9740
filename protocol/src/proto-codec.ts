import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Event, EventBatch, GapNotice as GapNoticeMessage } from "../generated/streamgate/v1/event.js";
import { ClientFrame, ServerFrame } from "../generated/streamgate/v1/frames.js";
import type { EventFields, ReceivedEvent } from "./envelope.js";
import { MAX_ID_LENGTH, SUBPROTOCOLS, type Frame, type FrameProblem, type WireCodec } from "./codec.js";
import type { GapNotice } from "./position.js";
import { readSpecFromProto, readSpecToProto } from "./read-spec.js";
import { dateFromTimestamp, timestampFromDate } from "./time.js";

/** The event as an encoded streamgate.v1.Event: WireEvent.proto, made once per event by the gateway. */
export function encodeEventMessage(event: EventFields): Uint8Array {
  return Event.encode({
    stream: event.stream,
    offset: BigInt(event.offset),
    id: event.id,
    type: event.type,
    key: event.key ?? "",
    time: timestampFromDate(event.time),
    data: event.data,
  }).finish();
}

function receivedFromMessage(event: Event): ReceivedEvent {
  return {
    stream: event.stream,
    offset: Number(event.offset),
    id: event.id,
    type: event.type,
    key: event.key === "" ? undefined : event.key,
    time: dateFromTimestamp(event.time),
    data: { bytes: event.data },
  };
}

function gapToMessage(gap: GapNotice): GapNoticeMessage {
  return { stream: gap.stream, requested: BigInt(gap.requested), first: BigInt(gap.first), epoch: gap.epoch };
}

function gapFromMessage(gap: GapNoticeMessage | undefined): GapNotice {
  return { stream: gap?.stream ?? "", requested: Number(gap?.requested ?? 0), first: Number(gap?.first ?? 0), epoch: gap?.epoch ?? "" };
}

function server(op: NonNullable<ServerFrame["op"]>): Uint8Array {
  return ServerFrame.encode({ op }).finish();
}

/** streamgate.v1.proto: binary frames, ClientFrame and ServerFrame. */
export const protoCodec: WireCodec = {
  subprotocol: SUBPROTOCOLS.proto,
  contentType: "application/x-protobuf",

  encodeServer(message) {
    switch (message.op) {
      // ServerFrame{event: EventDelivery{sub, event}} written around the event's shared encoding.
      case "event": {
        const delivery = new BinaryWriter().tag(1, WireType.LengthDelimited).string(message.sub);
        delivery.tag(2, WireType.LengthDelimited).bytes(message.event.proto);
        return new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(delivery.finish()).finish();
      }
      case "subscribed":
        return server({
          $case: "subscribed",
          value: {
            sub: message.sub,
            stream: message.stream,
            firstOffset: BigInt(message.first_offset),
            lastOffset: BigInt(message.last_offset),
            epoch: message.epoch,
          },
        });
      case "gap":
        return server({ $case: "gap", value: { sub: message.sub, gap: gapToMessage(message.gap) } });
      case "unsubscribed":
        return server({ $case: "unsubscribed", value: { sub: message.sub, reason: message.reason ?? "" } });
      case "published": {
        const { ref, offset, id, duplicate } = message;
        return server({ $case: "published", value: { ref, offset: BigInt(offset), id, duplicate } });
      }
      case "error": {
        const { ref, sub, code, message: text } = message;
        return server({ $case: "error", value: { ref: ref ?? "", sub: sub ?? "", code, message: text } });
      }
      case "pong":
        return server({ $case: "pong", value: { ref: message.ref } });
      case "authed":
        return server({ $case: "authed", value: { ref: message.ref, expiresAt: BigInt(message.expires_at ?? 0) } });
      case "expiring":
        return server({ $case: "expiring", value: { expiresAt: BigInt(message.expires_at) } });
    }
  },

  decodeServer(frame) {
    const op = ServerFrame.decode(bytes(frame)).op;
    switch (op?.$case) {
      case "event":
        return { op: "event", sub: op.value.sub, event: receivedFromMessage(op.value.event!) };
      case "subscribed": {
        const { sub, stream, firstOffset, lastOffset, epoch } = op.value;
        return { op: "subscribed", sub, stream, first_offset: Number(firstOffset), last_offset: Number(lastOffset), epoch };
      }
      case "gap":
        return { op: "gap", sub: op.value.sub, gap: gapFromMessage(op.value.gap) };
      case "unsubscribed":
        return { op: "unsubscribed", sub: op.value.sub, ...(op.value.reason && { reason: op.value.reason }) };
      case "published":
        return { op: "published", ref: op.value.ref, offset: Number(op.value.offset), id: op.value.id, duplicate: op.value.duplicate };
      case "error": {
        const { ref, sub, code, message } = op.value;
        return { op: "error", ...(ref && { ref }), ...(sub && { sub }), code, message };
      }
      case "pong":
        return { op: "pong", ref: op.value.ref };
      case "authed": {
        const { ref, expiresAt } = op.value;
        return { op: "authed", ref, ...(expiresAt !== 0n && { expires_at: Number(expiresAt) }) };
      }
      case "expiring":
        return { op: "expiring", expires_at: Number(op.value.expiresAt) };
      default:
        throw new TypeError("the ServerFrame has no operation");
    }
  },

  encodeClient(message) {
    switch (message.op) {
      case "subscribe":
        return ClientFrame.encode({
          op: { $case: "subscribe", value: { sub: message.sub, stream: message.stream, ...readSpecToProto(message.read) } },
        }).finish();
      case "publish": {
        const { ref, stream, event } = message;
        if (!(event.data instanceof Uint8Array)) throw new TypeError(`${SUBPROTOCOLS.proto} publishes encoded bytes`);
        const value = { ref, stream, type: event.type ?? "", data: event.data, id: event.id ?? "", ...(event.key !== undefined && { key: event.key }) };
        return ClientFrame.encode({ op: { $case: "publish", value } }).finish();
      }
      case "unsubscribe":
        return ClientFrame.encode({ op: { $case: "unsubscribe", value: { sub: message.sub } } }).finish();
      case "ping":
        return ClientFrame.encode({ op: { $case: "ping", value: { ref: message.ref } } }).finish();
      case "auth":
        return ClientFrame.encode({ op: { $case: "auth", value: { ref: message.ref, token: message.token } } }).finish();
    }
  },

  decodeClient(frame) {
    if (typeof frame === "string") return { problem: `text frames are not part of ${SUBPROTOCOLS.proto}` };
    let op: ClientFrame["op"];
    try {
      op = ClientFrame.decode(frame).op;
    } catch (err) {
      return { problem: `the frame is not a streamgate.v1.ClientFrame: ${(err as Error).message}` };
    }
    const badId = checkIds(op);
    if (badId) return badId;
    switch (op?.$case) {
      case "subscribe": {
        const subscribe = op.value;
        return { op: "subscribe", sub: subscribe.sub, stream: subscribe.stream, read: () => readSpecFromProto(subscribe) };
      }
      case "unsubscribe":
        return { op: "unsubscribe", sub: op.value.sub };
      case "publish": {
        const { ref, stream, type, data, key, id } = op.value;
        return { op: "publish", ref, stream, event: { type: type || undefined, key, id: id || undefined, data } };
      }
      case "ping":
        return { op: "ping", ref: op.value.ref };
      case "auth":
        if (!op.value.token) return { problem: "token must not be empty", ref: op.value.ref };
        return { op: "auth", ref: op.value.ref, token: op.value.token };
      default:
        return { problem: "the ClientFrame has no operation" };
    }
  },

  // streamgate.v1.EventBatch, reusing each event's shared encoding as field 1.
  encodeBatch({ events, next, first_offset, last_offset, gap }) {
    const writer = new BinaryWriter();
    for (const event of events) writer.tag(1, WireType.LengthDelimited).bytes(event.proto);
    writer.tag(2, WireType.Varint).uint64(next);
    writer.tag(3, WireType.Varint).uint64(first_offset);
    writer.tag(4, WireType.Varint).uint64(last_offset);
    if (gap) writer.tag(5, WireType.LengthDelimited).bytes(GapNoticeMessage.encode(gapToMessage(gap)).finish());
    return writer.finish();
  },

  decodeBatch(frame) {
    const batch = EventBatch.decode(bytes(frame));
    return {
      events: batch.events.map(receivedFromMessage),
      next: Number(batch.next),
      first_offset: Number(batch.firstOffset),
      last_offset: Number(batch.lastOffset),
      ...(batch.gap && { gap: gapFromMessage(batch.gap) }),
    };
  },
};

/** The proto form has no schema for ids: the same lengths the JSON form requires (a ping's ref may be empty). */
function checkIds(op: ClientFrame["op"]): FrameProblem | undefined {
  if (!op) return undefined;
  const [name, value] = op.$case === "publish" || op.$case === "ping" || op.$case === "auth" ? ["ref", op.value.ref] : ["sub", op.value.sub];
  const min = op.$case === "ping" ? 0 : 1;
  if (value.length >= min && value.length <= MAX_ID_LENGTH) return undefined;
  return { problem: `${name} must be ${min} to ${MAX_ID_LENGTH} characters` };
}

function bytes(frame: Frame): Uint8Array {
  return typeof frame === "string" ? new TextEncoder().encode(frame) : frame;
}
