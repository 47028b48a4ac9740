import type { EventFields } from "@streamgate/protocol/envelope";

/** An event as the backbone holds it: the message still encoded. */
export type StoredEvent = EventFields;
/** In UTF-8 bytes. Longer keys would make subjects unwieldy; no real entity id comes close. */
export const MAX_KEY_BYTES = 1024;

/**
 * Why a key cannot be stored exactly as given, or undefined when it can. NATS headers cannot
 * hold line breaks and trim surrounding spaces, and a lone surrogate has no UTF-8 form.
 */
export function keyProblem(key: string): string | undefined {
  if (!key.isWellFormed()) return "the key is not well-formed Unicode";
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return `the key is longer than ${MAX_KEY_BYTES} bytes of UTF-8`;
  if (/[\u0000-\u001f\u007f]/.test(key)) return "the key contains a control character";
  if (key.trim() !== key) return "the key begins or ends with white space";
  return undefined;
}
