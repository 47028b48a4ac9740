import type { GapNotice } from "../../src/protocol/position.js";
import type { AnyStreamDescriptor, ConsumedEvent } from "../../src/typed/stream.js";
import type { Event } from "../../generated/ts/streamgate/v1/event.js";

/** An event as a transport received it, before it is typed: JSON (SSE) or bytes (WS, poll). */
export interface ReceivedEvent {
  offset: number;
  id: string;
  type: string;
  key: string | undefined;
  time: Date;
  data: { json: unknown } | { bytes: Uint8Array } | { undecodable: string };
}

export type Delivery = { kind: "event"; event: ReceivedEvent } | { kind: "gap"; gap: GapNotice };

/** The JSON envelope of PROTOCOL.md section 2. */
export interface EnvelopeJson {
  stream: string;
  offset: number;
  id: string;
  type: string;
  key?: string;
  time: string;
  data: unknown;
  dataBase64?: string;
}

export function fromEnvelope(envelope: EnvelopeJson): ReceivedEvent {
  return {
    offset: envelope.offset,
    id: envelope.id,
    type: envelope.type,
    key: envelope.key,
    time: new Date(envelope.time),
    data: envelope.data === null ? { undecodable: envelope.dataBase64 ?? "" } : { json: envelope.data },
  };
}

export function fromEventMessage(event: Event): ReceivedEvent {
  const ms = Number(event.time?.seconds ?? 0n) * 1000 + Math.floor((event.time?.nanos ?? 0) / 1e6);
  return {
    offset: Number(event.offset),
    id: event.id,
    type: event.type,
    key: event.key === "" ? undefined : event.key,
    time: new Date(ms),
    data: { bytes: event.data },
  };
}

/** Why an event cannot be typed by this program: a type its schema lacks, or bad bytes. */
export class UnreadableEventError extends Error {
  constructor(
    readonly event: ReceivedEvent,
    reason: string,
  ) {
    super(reason);
    this.name = "UnreadableEventError";
  }
}

/** Types a received event with the stream's generated codecs. */
export function typed<S extends AnyStreamDescriptor>(stream: S, event: ReceivedEvent): ConsumedEvent<S> {
  const eventType = stream.events[event.type];
  if (!eventType) throw new UnreadableEventError(event, `${event.type} is not an event type of ${stream.name} in this program's schema`);
  if ("undecodable" in event.data) throw new UnreadableEventError(event, `the gateway could not decode ${event.type}`);
  const data = "json" in event.data ? eventType.codec.fromJSON(event.data.json) : eventType.codec.decode(event.data.bytes);
  const { offset, id, key, time, type } = event;
  return { type, data, offset, id, key, time } as ConsumedEvent<S>;
}
