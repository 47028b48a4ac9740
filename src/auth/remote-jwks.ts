import { errors, type JWTVerifyGetKey } from "jose";
import { ApiError } from "@streamgate/protocol/errors";
import { verificationKeys } from "./key-set.js";

/** Fetches and parses a JWKS document; the caller's, so it goes through its network policy. */
export type FetchJwks = (url: URL) => Promise<unknown>;

/** An issuer rotating its keys is seen within this; a flood of unknown `kid`s costs no more. */
export const JWKS_REFETCH_COOLDOWN_MS = 60_000;
/** Keys an issuer withdrew stop being trusted within this. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

/** The issuer's keys cannot be fetched and none are known yet: the token is not at fault. */
export class IssuerKeysUnavailableError extends ApiError {
  constructor(issuer: string, retryAfterSeconds: number, cause: unknown) {
    super("unavailable", `the keys of issuer ${issuer} cannot be fetched just now`, undefined, retryAfterSeconds);
    this.name = "IssuerKeysUnavailableError";
    this.cause = cause;
  }
}

/**
 * One issuer's keys from its JWKS URL, which comes from the configuration only (never `jku` or
 * `x5u` from a token). Fetched when first needed, again when older than JWKS_MAX_AGE_MS or when
 * a token names a key it lacks, but never more than once per JWKS_REFETCH_COOLDOWN_MS, failed
 * attempts included, so tokens cannot make the gateway hammer the issuer. A failed refetch, or
 * one with a key that cannot be read, keeps the keys it had.
 */
export class RemoteJwks {
  private keys: JWTVerifyGetKey | undefined;
  private loadedAt = -Infinity;
  private attemptedAt = -Infinity;
  private lastFailure: unknown;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly url: URL,
    private readonly fetchJwks: FetchJwks,
    /** Milliseconds since the epoch. */
    private readonly now: () => number,
  ) {}

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (this.now() - this.loadedAt >= JWKS_MAX_AGE_MS) await this.refresh();
    const keys = this.keys;
    if (!keys) throw this.unavailable();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      await this.refresh();
      if (!this.keys || this.keys === keys) throw error;
      return await this.keys(header, token);
    }
  };

  /** Concurrent callers share one attempt; within the cooldown there is none. */
  private refresh(): Promise<void> {
    if (!this.pending && this.now() - this.attemptedAt >= JWKS_REFETCH_COOLDOWN_MS) {
      this.attemptedAt = this.now();
      this.pending = this.load().finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending ?? Promise.resolve();
  }

  private async load(): Promise<void> {
    try {
      const keys = await verificationKeys(await this.fetchJwks(this.url));
      this.keys = keys;
      this.loadedAt = this.now();
      this.lastFailure = undefined;
    } catch (failure) {
      this.lastFailure = failure;
    }
  }

  private unavailable(): IssuerKeysUnavailableError {
    const waitMs = this.attemptedAt + JWKS_REFETCH_COOLDOWN_MS - this.now();
    return new IssuerKeysUnavailableError(this.issuer, Math.max(1, Math.ceil(waitMs / 1000)), this.lastFailure);
  }
}
