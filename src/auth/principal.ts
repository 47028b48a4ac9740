/** What a credential may do (PROTOCOL.md section 9.2). */
export type Action = "subscribe" | "publish" | "admin";

export interface Grant {
  /** Stream names, or prefixes ending in `*` (`*` alone: every stream). */
  streams: string[];
  actions: Action[];
  /** When present, only these keys: reads must ask for one with key=, publishes must be of one. */
  keys?: string[];
  /** When present, only these event types. */
  types?: string[];
}

/** Who is asking, as authentication found out. */
export interface Principal {
  kind: "anonymous" | "token" | "api-key";
  /** The token's subject, or the API key's name; without auth, the client's address (limits count per address). */
  name: string;
  /** What it may do; "all" while auth is off. */
  grants: readonly Grant[] | "all";
  /** Unix seconds; a token's `exp`. */
  expiresAt?: number;
}

/** Whoever asks while auth is off, known only by the address it comes from. */
export function anonymousAt(address: string): Principal {
  return { kind: "anonymous", name: address, grants: "all" };
}
