import { z } from "zod";

/** The most events one POST .../events:batch takes (PROTOCOL.md section 4). */
export const MAX_BATCH = 1000;

/** ^[A-Za-z0-9_:-]{1,128}$, PROTOCOL.md section 1. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_:-]{1,128}$/;

/** An event to publish as JSON: the HTTP body of PROTOCOL.md section 4, and the WebSocket `publish`. */
export const jsonEventInput = z
  .object({
    type: z.string().min(1).optional(),
    data: z.record(z.string(), z.unknown()),
    key: z.string().optional(),
    id: z.string().regex(EVENT_ID_PATTERN, `must match ${EVENT_ID_PATTERN.source}`).optional(),
  })
  .strict();
export type JsonEventInput = z.infer<typeof jsonEventInput>;

/** An event to publish as protobuf: its bytes, and type, key and id from headers or frame fields. */
export interface BinaryEventInput {
  type: string | undefined;
  key: string | undefined;
  id: string | undefined;
  data: Uint8Array;
}

export type EventInput = JsonEventInput | BinaryEventInput;

export function isBinaryInput(input: EventInput): input is BinaryEventInput {
  return input.data instanceof Uint8Array;
}

/** What storing an event came to. */
export interface PublishResult {
  offset: number;
  id: string;
  /** The id was already stored within the duplicate window; offset is the first one. */
  duplicate: boolean;
}
