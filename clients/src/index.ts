/**
 * @streamgate/client on the protobuf subprotocol and protobuf poll batches: exact int64 and
 * nanosecond timestamps. For the JSON subprotocol, import @streamgate/client/json instead.
 */
import { protoCodec } from "@streamgate/protocol/proto-codec";
import { StreamgateClient, type ClientOptions } from "./client.js";
import type { ClientCodec } from "./client-codec.js";

export * from "./exports.js";

const protobuf: ClientCodec = { wire: protoCodec, publishedData: (codec, message) => codec.encode(message).finish() };

export function createClient(options: ClientOptions): StreamgateClient {
  return new StreamgateClient(options, protobuf);
}
