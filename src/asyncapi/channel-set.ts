import type { StreamSettings } from "@streamgate/protocol/stream";
import type { StreamDefinition } from "../schema/definitions.js";
import { channelMessageRef, channelRef, messageRef, type Channel, type Operation, type Ref } from "./spec.js";
import { WIRE_SCHEMAS } from "./wire-schemas.js";

/** The channels of one stream over one protocol, and what a client does on them. */
export interface ChannelSet {
  channels: Record<string, Channel>;
  operations: Record<string, Operation>;
}

export interface ChannelOptions {
  /** A credential may come as access_token= in the query (auth.allowQueryToken). */
  queryToken: boolean;
}

/**
 * A channel or operation id: the stream's name, a hyphen, a suffix without one. Stream names
 * may hold hyphens, but the last one always ends the name, so no two streams' ids meet.
 */
export const streamId = (stream: StreamDefinition, suffix: string) => `${stream.name}-${suffix}`;

/** An operation on `channel` with some of its messages (by id), and the replies it gets there. */
export function operationOn(
  channel: string,
  fields: Omit<Operation, "channel" | "messages" | "reply">,
  messages: readonly string[],
  replies?: readonly string[],
): Operation {
  return {
    ...fields,
    channel: channelRef(channel),
    messages: messages.map((id) => channelMessageRef(channel, id)),
    ...(replies && { reply: { channel: channelRef(channel), messages: replies.map((id) => channelMessageRef(channel, id)) } }),
  };
}

/** Descriptions of several parts (the stream's own may be empty), a blank line between them. */
export function paragraphs(...texts: string[]): string {
  return texts.filter((text) => text !== "").join("\n\n");
}

/** A read channel's description: the stream's own, how far back a read can start, then the protocol's. */
export function readDescription(stream: StreamDefinition, protocol: string): string {
  return paragraphs(stream.description, retention(stream.settings), protocol);
}

/** A publish channel's description: the stream's own, its duplicate window, then the route's. */
export function publishDescription(stream: StreamDefinition, route: string): string {
  const window = `An event id published again within ${duration(stream.settings.duplicateWindowMs)} is stored once.`;
  return paragraphs(stream.description, window, route);
}

function retention({ maxAgeMs, maxEvents, maxBytes }: StreamSettings): string {
  const limits = [
    maxAgeMs > 0 ? `events older than ${duration(maxAgeMs)}` : "",
    maxEvents >= 0 ? `all but the newest ${maxEvents} events` : "",
    maxBytes >= 0 ? `the oldest events beyond ${maxBytes} bytes` : "",
  ].filter((limit) => limit !== "");
  if (limits.length === 0) return "The stream keeps every event: a read can start at the first.";
  return `The stream removes ${limits.join(", and ")}: a read from further back gets a gap notice and starts at the oldest kept.`;
}

function duration(ms: number): string {
  for (const [unit, size] of [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000]] as const) {
    if (ms % size === 0) return `${ms / size} ${unit}${ms === size ? "" : "s"}`;
  }
  return `${ms / 1000} s`;
}

/** The envelope messages of a stream's event types (components.messages, by type name), and of an undecodable event. */
export function envelopeMessages(stream: StreamDefinition): Record<string, Ref> {
  return {
    ...Object.fromEntries(stream.events.map((event) => [event.type, messageRef(event.type)])),
    [WIRE_SCHEMAS.undecoded]: messageRef(WIRE_SCHEMAS.undecoded),
  };
}
