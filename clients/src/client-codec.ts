import type { ClientWireCodec } from "@streamgate/protocol/codec";
import type { MessageCodec } from "@streamgate/protocol/stream";

/**
 * How a client speaks on WebSocket and long poll: one wire codec, and the form an event's data
 * takes when it is published on the socket. Each entry point binds one, so a bundle holds only
 * the codec its user picked (SSE is JSON text on either).
 */
export interface ClientCodec {
  readonly wire: ClientWireCodec;
  publishedData(codec: MessageCodec<unknown>, message: unknown): Uint8Array | Record<string, unknown>;
}
