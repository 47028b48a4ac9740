import type { JetStreamClient } from "@nats-io/jetstream";
import { storeEvent, type PublishRetryOptions, type StoreResult } from "../backbone/publish.js";
import type { AnyStreamDescriptor, PublishableEvent, StreamDescriptor, EventTypeDescriptor } from "@streamgate/protocol/stream";
import { ApiError } from "@streamgate/protocol/errors";

export interface PublishOptions {
  /** Overrides the key read from the event's key field. */
  key?: string;
  /** The idempotency key: publishing it again within the duplicate window stores nothing new. */
  id?: string;
}

export interface Producer<S> {
  publish(event: PublishableEvent<S>, options?: PublishOptions): Promise<StoreResult>;
}

export class UnknownEventTypeError extends ApiError {
  constructor(message: string) {
    super("invalid_argument", message);
    this.name = "UnknownEventTypeError";
  }
}

export function createProducer<Events extends Record<string, EventTypeDescriptor<unknown>>>(
  js: JetStreamClient,
  stream: StreamDescriptor<Events>,
  retry: PublishRetryOptions = {},
): Producer<StreamDescriptor<Events>> {
  const untyped: AnyStreamDescriptor = stream;
  return {
    async publish(event, options = {}) {
      const { type, data } = event as { type: string; data: unknown };
      const eventType = untyped.events[type];
      if (!eventType) throw new UnknownEventTypeError(`stream ${stream.name} has no event type ${type}`);
      const message = eventType.codec.fromPartial(data as never);
      return storeEvent(
        js,
        {
          stream: stream.name,
          type,
          key: options.key ?? keyOf(message, eventType.keyField),
          id: options.id,
          data: eventType.codec.encode(message).finish(),
        },
        retry,
      );
    },
  };
}

export function keyOf(message: unknown, keyField: string | undefined): string | undefined {
  if (keyField === undefined) return undefined;
  const value = (message as Record<string, unknown>)[keyField];
  return typeof value === "string" && value !== "" ? value : undefined;
}
