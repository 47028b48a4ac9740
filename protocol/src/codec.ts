import type { ErrorCode } from "./errors.js";
import type { ReceivedEvent, WireEvent } from "./envelope.js";
import type { GapNotice } from "./position.js";
import type { EventInput, PublishResult } from "./publish.js";
import type { ReadSpec } from "./read-spec.js";

/** The WebSocket subprotocols of PROTOCOL.md section 5.4. */
export const SUBPROTOCOLS = { json: "streamgate.v1.json", proto: "streamgate.v1.proto" } as const;

export type Frame = string | Uint8Array;

/** What the server sends, with events as E: already encoded (server) or decoded (client). */
export type ServerMessage<E> =
  | { op: "subscribed"; sub: string; stream: string; first_offset: number; last_offset: number; epoch: string }
  | { op: "event"; sub: string; event: E }
  | { op: "gap"; sub: string; gap: GapNotice }
  | { op: "unsubscribed"; sub: string; reason?: string }
  | ({ op: "published"; ref: string } & PublishResult)
  | { op: "error"; ref?: string; sub?: string; code: ErrorCode | string; message: string }
  | { op: "pong"; ref: string }
  /** expires_at: unix seconds; absent when the credential does not expire (an API key). */
  | { op: "authed"; ref: string; expires_at?: number }
  | { op: "expiring"; expires_at: number };

/**
 * What a client sends. A subscription's read is R: the spec itself when encoding, and a parse
 * of it when decoding, so that a bad position is refused once its stream's range is known.
 */
export type ClientMessage<R = ReadSpec> =
  | { op: "subscribe"; sub: string; stream: string; read: R }
  | { op: "unsubscribe"; sub: string }
  | { op: "publish"; ref: string; stream: string; event: EventInput }
  | { op: "ping"; ref: string }
  /** Authenticates the connection, or refreshes its credential in place (PROTOCOL.md 9.3). */
  | { op: "auth"; ref: string; token: string };

export type DecodedClientMessage = ClientMessage<() => ReadSpec>;

/** A frame the server could not take; `ref`/`sub` are echoed when they could be read. */
export interface FrameProblem {
  problem: string;
  ref?: string;
  sub?: string;
}

/** A long-poll answer (PROTOCOL.md section 5.2). */
export interface PollBatch<E> {
  events: E[];
  next: number;
  first_offset: number;
  last_offset: number;
  gap?: GapNotice;
}

/**
 * One wire format: every message both ways, and poll batches. The gateway and the clients use
 * the same two implementations (JSON and protobuf), so the format is written down once.
 */
export interface WireCodec {
  readonly subprotocol: string;
  /** The media type of a poll batch in this format. */
  readonly contentType: string;
  encodeServer(message: ServerMessage<WireEvent>): Frame;
  decodeServer(frame: Frame): ServerMessage<ReceivedEvent>;
  encodeClient(message: ClientMessage): Frame;
  decodeClient(frame: Frame): DecodedClientMessage | FrameProblem;
  encodeBatch(batch: PollBatch<WireEvent>): Frame;
  decodeBatch(frame: Frame): PollBatch<ReceivedEvent>;
}

/** What a client uses of a codec: its half, without the gateway's checks of client frames. */
export type ClientWireCodec = Pick<WireCodec, "subprotocol" | "contentType" | "encodeClient" | "decodeServer" | "decodeBatch">;

/** Frame ids (`sub`, `ref`): 1 to 128 characters in both forms. */
export const MAX_ID_LENGTH = 128;
