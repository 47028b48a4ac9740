
/** An event on the wire as JSON (PROTOCOL.md section 2). */
export interface Envelope {
  stream: string;
  offset: number;
  id: string;
  type: string;
  key?: string;
  time: string;
  /** Canonical proto3 JSON of the message; null when the gateway could not decode it. */
  data: unknown;
  /** Only when data could not be decoded: the raw payload, so nothing is dropped. */
  dataBase64?: string;
}

/** GET /v1/streams/{stream} (PROTOCOL.md section 4). */
export interface StreamInfo {
  name: string;
  description: string;
  types: string[];
  first_offset: number;
  last_offset: number;
  events: number;
  bytes: number;
  epoch: string;
  created: string;
}

/** An event's fields, with its message still encoded. */
export interface EventFields {
  stream: string;
  offset: number;
  id: string;
  type: string;
  key: string | undefined;
  time: Date;
  data: Uint8Array;
}

/**
 * An event ready for the wire in both forms. The gateway makes each form at most once per
 * event, however many clients it goes to, so codecs take it already encoded.
 */
export interface WireEvent {
  readonly offset: number;
  /** The envelope as JSON text. */
  readonly json: string;
  /** The event as an encoded streamgate.v1.Event. */
  readonly proto: Uint8Array;
}

/** An event as a client received it, before it is typed: JSON, bytes, or what the gateway could not decode. */
export interface ReceivedEvent extends Omit<EventFields, "data"> {
  data: { json: unknown } | { bytes: Uint8Array } | { undecodable: string };
}

export function receivedFromEnvelope(envelope: Envelope): ReceivedEvent {
  return {
    stream: envelope.stream,
    offset: envelope.offset,
    id: envelope.id,
    type: envelope.type,
    key: envelope.key,
    time: new Date(envelope.time),
    data: envelope.data === null ? { undecodable: envelope.dataBase64 ?? "" } : { json: envelope.data },
  };
}
