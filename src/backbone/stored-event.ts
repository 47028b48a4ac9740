/** An event as the backbone holds it: the message still encoded. */
export interface StoredEvent {
  stream: string;
  offset: number;
  id: string;
  type: string;
  key: string | undefined;
  time: Date;
  data: Uint8Array;
}

/** ^[A-Za-z0-9_:-]{1,128}$, PROTOCOL.md section 1. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_:-]{1,128}$/;
/** Longer keys would make subjects unwieldy; no real entity id comes close. */
export const MAX_KEY_LENGTH = 1024;
