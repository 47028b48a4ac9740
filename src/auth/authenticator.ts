import { ApiKeyRing, API_KEY_PREFIX, type ApiKeyConfig } from "./api-keys.js";
import { type IssuerConfig, trustedIssuers } from "./issuers.js";
import type { Principal } from "./principal.js";
import type { FetchJwks } from "./remote-jwks.js";
import { AuthSettingsError } from "./settings-error.js";
import { TokenVerifier } from "./tokens.js";

export { newApiKey, type ApiKeyConfig } from "./api-keys.js";
export { credentialOf } from "./credential.js";
export type { IssuerConfig } from "./issuers.js";
export { IssuerKeysUnavailableError, type FetchJwks } from "./remote-jwks.js";
export { AuthSettingsError } from "./settings-error.js";
export { UnauthenticatedError } from "./unauthenticated-error.js";

export interface AuthSettings {
  /** A token's `aud` must include it. */
  audience: string;
  /** The claim holding a token's grants. */
  grantsClaim: string;
  /** How far `exp`, `nbf` and `iat` may be off. */
  clockSkewSeconds: number;
  issuers: IssuerConfig[];
  apiKeys: ApiKeyConfig[];
}

export interface AuthenticatorOptions {
  /** How JWKS URLs are fetched; required when an issuer has a jwksUrl. */
  fetchJwks?: FetchJwks;
  /** Milliseconds since the epoch, as Date.now (the default). */
  now?: () => number;
}

/** Turns a bearer credential, a JWT or an API key, into who is asking and what they may do. */
export class Authenticator {
  private constructor(
    private readonly tokens: TokenVerifier,
    private readonly apiKeys: ApiKeyRing,
  ) {}

  /**
   * Checks the settings and reads JWKS files; throws AuthSettingsError naming the issuer or key
   * at fault. JWKS URLs are fetched when a token first needs them.
   */
  static async create(settings: AuthSettings, options: AuthenticatorOptions = {}): Promise<Authenticator> {
    if (!settings.audience) throw new AuthSettingsError("auth.audience must name this gateway");
    if (!settings.grantsClaim) throw new AuthSettingsError("auth.grantsClaim must name a claim");
    if (!Number.isFinite(settings.clockSkewSeconds) || settings.clockSkewSeconds < 0) {
      throw new AuthSettingsError("auth.clockSkewSeconds must be a number of seconds, 0 or more");
    }
    if (settings.issuers.length === 0 && settings.apiKeys.length === 0) {
      throw new AuthSettingsError("auth has neither issuers nor apiKeys, so no credential could be accepted");
    }
    const now = options.now ?? Date.now;
    const apiKeys = new ApiKeyRing(settings.apiKeys);
    const issuers = await trustedIssuers(settings.issuers, { fetchJwks: options.fetchJwks, now });
    const { audience, grantsClaim, clockSkewSeconds } = settings;
    return new Authenticator(new TokenVerifier(issuers, { audience, grantsClaim, clockSkewSeconds, now }), apiKeys);
  }

  /**
   * The principal of a bearer credential. Refuses with UnauthenticatedError, or, while a JWKS
   * URL's keys cannot be fetched, with IssuerKeysUnavailableError (503 + Retry-After).
   */
  async authenticate(credential: string): Promise<Principal> {
    if (credential.startsWith(API_KEY_PREFIX)) return this.apiKeys.authenticate(credential);
    return this.tokens.authenticate(credential);
  }
}
