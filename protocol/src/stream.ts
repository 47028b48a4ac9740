/** How JetStream keeps a stream, as declared by (streamgate.v1.stream). */
export interface StreamSettings {
  /** Events older than this are removed; 0 = no limit. */
  maxAgeMs: number;
  /** -1 = no limit. */
  maxBytes: number;
  /** -1 = no limit. */
  maxEvents: number;
  storage: "file" | "memory";
  /** Pinned by the schema; unset: the gateway's replicas setting decides. */
  replicas?: number;
  duplicateWindowMs: number;
}

/** The part of a ts-proto message object the runtime uses. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
  /** Reads canonical proto3 JSON, as the gateway writes it. */
  fromJSON(object: unknown): T;
  /** Writes proto3 JSON: what a client on the JSON subprotocol publishes. */
  toJSON(message: T): unknown;
}

export interface EventTypeDescriptor<T> {
  codec: MessageCodec<T>;
  /** The message property that holds the event key. */
  keyField?: string;
}

/** What protoc-gen-streamgate emits for one stream: declarations only, no behaviour. */
export interface StreamDescriptor<Events extends Record<string, EventTypeDescriptor<unknown>>> {
  name: string;
  description: string;
  settings: StreamSettings;
  events: Events;
}

// eslint-style "any stream": the event map is erased to unknown messages.
export type AnyStreamDescriptor = StreamDescriptor<Record<string, EventTypeDescriptor<unknown>>>;

export function defineStream<const Events extends Record<string, EventTypeDescriptor<unknown>>>(
  descriptor: StreamDescriptor<Events>,
): StreamDescriptor<Events> {
  return descriptor;
}

type EventsOf<S> = S extends StreamDescriptor<infer Events> ? Events : never;
export type EventTypeOf<S> = keyof EventsOf<S> & string;
type MessageOf<S, K extends EventTypeOf<S>> = EventsOf<S>[K] extends EventTypeDescriptor<infer T> ? T : never;
/** What a producer accepts for a message: ts-proto's DeepPartial of it. */
type MessageInitOf<S, K extends EventTypeOf<S>> = EventsOf<S>[K]["codec"] extends {
  fromPartial(object: infer Init): unknown;
}
  ? Init
  : never;

/** An event to publish: `{type, data}`, with data typed by type. */
export type PublishableEvent<S> = {
  [K in EventTypeOf<S>]: { type: K; data: MessageInitOf<S, K> };
}[EventTypeOf<S>];

/** An event read back: a discriminated union on `type`. */
export type ConsumedEvent<S> = {
  [K in EventTypeOf<S>]: {
    type: K;
    data: MessageOf<S, K>;
    offset: number;
    id: string;
    key: string | undefined;
    time: Date;
  };
}[EventTypeOf<S>];
