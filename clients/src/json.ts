/**
 * @streamgate/client on the JSON subprotocol and JSON poll batches, for apps that want no
 * protobuf wire frames in their bundle. Timestamps keep milliseconds only (ts-proto's JSON).
 */
import { jsonClientCodec } from "@streamgate/protocol/json-client-codec";
import { StreamgateClient, type ClientOptions } from "./client.js";
import type { ClientCodec } from "./client-codec.js";

export * from "./exports.js";

const json: ClientCodec = { wire: jsonClientCodec, publishedData: (codec, message) => codec.toJSON(message) as Record<string, unknown> };

export function createClient(options: ClientOptions): StreamgateClient {
  return new StreamgateClient(options, json);
}
