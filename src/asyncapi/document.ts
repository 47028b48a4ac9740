/**
 * The AsyncAPI 3.0.0 document of a gateway's schemas: each stream's channels over every
 * protocol, each event type's message with its data as JSON Schema, derived from the protobuf
 * descriptors at run time. Pure: the same schemas and options give the same document.
 */
import { VERSION } from "../version.js";
import type { EventDefinition } from "../schema/definitions.js";
import type { Schemas } from "../schema/registry.js";
import { paragraphs, type ChannelSet } from "./channel-set.js";
import { commentOf, protoJsonSchemas } from "./proto-json-schema.js";
import { publishChannels } from "./publish-channels.js";
import { pollChannel, sseChannel } from "./read-channels.js";
import { schemaRef, securitySchemeRef, type AsyncApiDocument, type Message, type SecurityScheme, type Server } from "./spec.js";
import { WEBHOOK_SERVER, webhookChannel } from "./webhook-channel.js";
import { envelopeSchemaName, WIRE_SCHEMAS, wireSchemas } from "./wire-schemas.js";
import { wsChannel } from "./ws-channel.js";

export interface DocumentOptions {
  /** Where clients reach the gateway: scheme and host, e.g. http://127.0.0.1:8080 (https makes the WebSocket wss). */
  baseUrl: string;
  /** How clients authenticate; left out while auth is off. */
  auth?: { queryToken: boolean };
}

export function asyncApiDocument(schemas: Schemas, options: DocumentOptions): AsyncApiDocument {
  const streams = [...schemas.streams.values()].sort((a, b) => a.name.localeCompare(b.name));
  const events = streams.flatMap((stream) => stream.events);
  const channelOptions = { queryToken: options.auth?.queryToken ?? false };
  const sets: ChannelSet[] = streams.flatMap((stream) => [
    sseChannel(stream, channelOptions),
    pollChannel(stream, channelOptions),
    wsChannel(stream),
    webhookChannel(stream),
    publishChannels(stream),
  ]);
  const security = options.auth && securitySchemes(options.auth.queryToken);
  return {
    asyncapi: "3.0.0",
    info: {
      title: "streamgate",
      version: VERSION,
      description: paragraphs(
        "Protobuf-described event streams, served over Server-Sent Events, long polling, WebSocket and webhooks, with replay from any offset. " +
          "Every protocol carries the same envelope (stream, offset, id, type, key, time, data), with data in canonical proto3 JSON.",
        "Operations are a client's: `receive` is what a client reads (or a webhook receiver is sent), `send` is what it publishes.",
      ),
    },
    defaultContentType: "application/json",
    servers: servers(new URL(options.baseUrl), security && Object.keys(security)),
    channels: Object.assign({}, ...sets.map((set) => set.channels)),
    operations: Object.assign({}, ...sets.map((set) => set.operations)),
    components: {
      schemas: { ...protoJsonSchemas(events.map((event) => event.message)), ...wireSchemas(streams) },
      messages: { ...Object.fromEntries(events.map((event) => [event.type, envelopeMessage(event)])), ...wireMessages() },
      ...(security && { securitySchemes: security }),
    },
  };
}

function servers(base: URL, security: string[] | undefined): Record<string, Server> {
  const secure = base.protocol === "https:";
  const securedBy = security && { security: security.map(securitySchemeRef) };
  return {
    http: { host: base.host, protocol: secure ? "https" : "http", title: "The gateway over HTTP", description: "Publishing, Server-Sent Events and long polling.", ...securedBy },
    ws: { host: base.host, protocol: secure ? "wss" : "ws", title: "The gateway's WebSocket", ...securedBy },
    [WEBHOOK_SERVER]: {
      host: "{receiver}",
      protocol: "https",
      title: "A webhook receiver",
      description: "Wherever a webhook's url points (http or https): the gateway is the client here, and signs what it sends.",
      variables: { receiver: { description: "the host (and port) of the URL the webhook was registered with" } },
    },
  };
}

function securitySchemes(queryToken: boolean): Record<string, SecurityScheme> {
  return {
    bearer: { type: "http", scheme: "bearer", description: "Authorization: Bearer <a JWT access token, or an API key sgk_...>" },
    cookie: { type: "httpApiKey", in: "cookie", name: "streamgate_token", description: "the token as an HttpOnly cookie, for EventSource and WebSocket in browsers" },
    ...(queryToken && { query: { type: "httpApiKey" as const, in: "query" as const, name: "access_token", description: "the token in the URL, where the gateway allows it" } }),
  };
}

function envelopeMessage(event: EventDefinition): Message {
  const comment = commentOf(event.message);
  return {
    name: event.type,
    title: event.message.name,
    ...(comment && { summary: comment }),
    contentType: "application/json",
    payload: schemaRef(envelopeSchemaName(event)),
  };
}

function wireMessages(): Record<string, Message> {
  const message = (name: string, title: string): Message => ({ name, title, contentType: "application/json", payload: schemaRef(name) });
  return {
    [WIRE_SCHEMAS.undecoded]: message(WIRE_SCHEMAS.undecoded, "An event the gateway could not decode"),
    [WIRE_SCHEMAS.gap]: message(WIRE_SCHEMAS.gap, "Gap notice"),
    [WIRE_SCHEMAS.publishResult]: message(WIRE_SCHEMAS.publishResult, "Stored"),
    [WIRE_SCHEMAS.error]: message(WIRE_SCHEMAS.error, "Error"),
  };
}
