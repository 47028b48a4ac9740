import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { StreamSettings } from "@streamgate/protocol/stream";

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
