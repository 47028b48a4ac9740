import type { ReceivedEvent } from "@streamgate/protocol/envelope";
import type { GapNotice } from "@streamgate/protocol/position";
import type { AnyStreamDescriptor, ConsumedEvent } from "@streamgate/protocol/stream";

/** What a transport yields: an event as received, or a gap notice. */
export type Delivery = { kind: "event"; event: ReceivedEvent } | { kind: "gap"; gap: GapNotice };

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
