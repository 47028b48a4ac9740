import type { DescField, DescMessage } from "@bufbuild/protobuf";

/** How JetStream keeps a stream, as declared by (streamgate.v1.stream). */
export interface StreamSettings {
  /** Events older than this are removed; 0 = no limit. */
  maxAgeMs: number;
  /** -1 = no limit. */
  maxBytes: number;
  /** -1 = no limit. */
  maxEvents: number;
  storage: "file" | "memory";
  replicas: number;
  duplicateWindowMs: number;
}

export interface EventDefinition {
  /** Fully-qualified protobuf name, e.g. demo.orders.v1.OrderCreated. */
  type: string;
  message: DescMessage;
  /** The string field whose value becomes the event key. */
  keyField?: DescField;
  file: string;
}

export interface StreamDefinition {
  name: string;
  description: string;
  settings: StreamSettings;
  /** The proto file that declares the stream. */
  file: string;
  events: EventDefinition[];
}

export const STREAM_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
