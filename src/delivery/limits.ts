import type { Principal } from "../auth/principal.js";
import { ApiError } from "@streamgate/protocol/errors";
import type { Protocol } from "./transport.js";
import { UnsentBudget } from "./unsent-budget.js";

/** PROTOCOL.md section 9.5; the names are issue 10's. */
export interface LimitSettings {
  /** Open SSE responses, polls and WebSockets of one credential (of one address when anonymous). */
  connectionsPerCredential: number;
  connectionsTotal: number;
  /** A token bucket per credential, holding one second's worth. */
  publishesPerSecond: number;
  longPollsPerCredential: number;
  /** Written but unsent bytes of all connections together (UnsentBudget). */
  unsentBytesTotal: number;
}

/** A refusal by a limit: rate_limited (a credential's) or unavailable (the gateway's). WebSockets close with 1013 on it. */
export class OverLimitError extends ApiError {}

/** When a seat may free up is unknown; a client should not come back at once. */
const CONNECTION_RETRY_AFTER_S = 5;

/** Whose connections and publishes are counted together: the credential, or the address of an anonymous client. */
export function credentialKey(principal: Principal): string {
  return principal.kind === "anonymous" ? `addr:${principal.name}` : `${principal.kind}:${principal.name}`;
}

/**
 * The gateway's counts of connections and publishes. Only credentials with something open, or
 * a bucket not yet refilled, have an entry, so memory follows what is in use.
 */
export class Limits {
  #total = 0;
  readonly #connections = new Map<string, number>();
  readonly #polls = new Map<string, number>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #swept = Date.now();

  /** What all connections hold unsent, against settings.unsentBytesTotal. */
  readonly unsent: UnsentBudget;

  constructor(readonly settings: LimitSettings) {
    this.unsent = new UnsentBudget(settings.unsentBytesTotal);
  }

  /** Takes a place among all connections; unavailable (503) when they are all taken. */
  seat(protocol: Protocol): Seat {
    const { connectionsTotal } = this.settings;
    if (this.#total >= connectionsTotal) {
      throw new OverLimitError("unavailable", `the gateway holds its limit of ${connectionsTotal} connections: try again later`, undefined, CONNECTION_RETRY_AFTER_S);
    }
    this.#total++;
    return new Seat(this, protocol);
  }

  /** A seat moves from one credential's count (or none) to another's; refused with rate_limited, it stays. */
  moveSeat(protocol: Protocol, from: string | undefined, to: string): void {
    this.#countIn(to, protocol);
    if (from !== undefined) this.#countOut(from, protocol);
  }

  /** A seat given back, with the credential it was counted under. */
  freeSeat(protocol: Protocol, key: string | undefined): void {
    if (key !== undefined) this.#countOut(key, protocol);
    this.#total--;
  }

  /** Admits `count` publishes of the principal (a batch at once), or refuses them all with rate_limited. */
  publish(principal: Principal, count = 1): void {
    const rate = this.settings.publishesPerSecond;
    const now = Date.now();
    this.#sweep(now);
    const key = credentialKey(principal);
    const bucket = this.#buckets.get(key) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    // A batch larger than a second's worth passes on a full bucket and leaves it in debt, so the rate holds on average.
    const needed = Math.min(count, rate);
    if (bucket.tokens < needed) {
      this.#buckets.set(key, bucket);
      const retryAfter = Math.max(1, Math.ceil((needed - bucket.tokens) / rate));
      throw new OverLimitError("rate_limited", `more than ${rate} publishes per second for this credential`, undefined, retryAfter);
    }
    bucket.tokens -= count;
    this.#buckets.set(key, bucket);
  }

  /** Buckets refilled by now are forgotten (a new one starts full anyway); looked at once a second at most. */
  #sweep(now: number): void {
    if (now - this.#swept < 1000) return;
    this.#swept = now;
    const rate = this.settings.publishesPerSecond;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * rate >= rate) this.#buckets.delete(key);
    }
  }

  #countIn(key: string, protocol: Protocol): void {
    const { connectionsPerCredential, longPollsPerCredential } = this.settings;
    const connections = this.#connections.get(key) ?? 0;
    if (connections >= connectionsPerCredential) {
      throw new OverLimitError("rate_limited", `this credential holds its limit of ${connectionsPerCredential} open connections`, undefined, CONNECTION_RETRY_AFTER_S);
    }
    const polls = this.#polls.get(key) ?? 0;
    if (protocol === "poll" && polls >= longPollsPerCredential) {
      throw new OverLimitError("rate_limited", `this credential holds its limit of ${longPollsPerCredential} concurrent polls`, undefined, CONNECTION_RETRY_AFTER_S);
    }
    this.#connections.set(key, connections + 1);
    if (protocol === "poll") this.#polls.set(key, polls + 1);
  }

  #countOut(key: string, protocol: Protocol): void {
    decrement(this.#connections, key);
    if (protocol === "poll") decrement(this.#polls, key);
  }
}

/**
 * One connection's place: in the total from the start, under its credential once it has one.
 * A class, not closures: every open connection holds one.
 */
export class Seat {
  /** Whom it is counted under: the principal, not its key, which would be a string of each connection (anonymous principals are shared). */
  #holder: Principal | undefined;
  #released = false;

  constructor(
    private readonly limits: Limits,
    private readonly protocol: Protocol,
  ) {}

  /** Counts the connection under the principal's credential from now on; a refusal (rate_limited) keeps the one it had. */
  hold(principal: Principal): void {
    if (this.#released) return;
    const key = this.#key();
    const next = credentialKey(principal);
    if (next !== key) this.limits.moveSeat(this.protocol, key, next);
    this.#holder = principal;
  }

  #key(): string | undefined {
    return this.#holder && credentialKey(this.#holder);
  }

  /** Gives the place back, once. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.limits.freeSeat(this.protocol, this.#key());
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 0) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
