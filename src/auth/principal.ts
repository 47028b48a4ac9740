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

/** The last anonymous principal made: the next one from its address is the same object. */
let lastAnonymous: Principal | undefined;

/**
 * Whoever asks while auth is off, known only by the address it comes from. Clients behind one
 * address (a proxy, a load balancer) come in runs, and each idle connection holds its
 * principal: a run shares one.
 */
export function anonymousAt(address: string): Principal {
  if (lastAnonymous?.name !== address) lastAnonymous = { kind: "anonymous", name: address, grants: "all" };
  return lastAnonymous;
}
