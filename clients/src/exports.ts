/** What both entry points (protobuf and JSON) export besides createClient. */
export { StreamgateClient } from "./client.js";
export type { ClientOptions, Protocol, Published, PublishOptions, SubscribeOptions } from "./client.js";
export type { SocketLike, WebSocketConstructor, WebSocketOptions } from "./ws.js";
export { UnreadableEventError } from "./events.js";
export { ConnectionLostError, CredentialExpiredError, RequestRefusedError } from "./query.js";
export { verifyWebhook, WebhookVerificationError } from "./webhook.js";
export type { VerifyOptions } from "./webhook.js";
export type { GapNotice, Position } from "@streamgate/protocol/position";
