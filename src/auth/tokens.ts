import { decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import { ApiError } from "@streamgate/protocol/errors";
import { grantsOfClaim } from "./grants-claim.js";
import type { TrustedIssuer } from "./issuers.js";
import type { Principal } from "./principal.js";
import { UnauthenticatedError } from "./unauthenticated-error.js";

export interface TokenRules {
  audience: string;
  grantsClaim: string;
  clockSkewSeconds: number;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** JWT access tokens (PROTOCOL.md 9.1), each checked against its own issuer only. */
export class TokenVerifier {
  constructor(
    private readonly issuers: ReadonlyMap<string, TrustedIssuer>,
    private readonly rules: TokenRules,
  ) {}

  async authenticate(token: string): Promise<Principal> {
    // The unverified `iss` only chooses whose keys to try: every claim is checked again below.
    const issuer = this.issuers.get(unverifiedIssuer(token));
    if (!issuer) throw new UnauthenticatedError("the token's issuer (iss) is not one this gateway trusts");
    const payload = await this.verified(token, issuer);
    return {
      kind: "token",
      name: typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : "token",
      grants: grantsOfClaim(payload, this.rules.grantsClaim),
      expiresAt: payload.exp,
    };
  }

  private async verified(token: string, issuer: TrustedIssuer): Promise<JWTPayload> {
    const now = this.rules.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.key, {
        issuer: issuer.issuer,
        algorithms: issuer.algorithms,
        audience: this.rules.audience,
        clockTolerance: this.rules.clockSkewSeconds,
        requiredClaims: ["exp"],
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw refusal(error, issuer.issuer, this.rules.audience);
    }
    // jose looks at `iat` only when asked for a maximum age; a token from the future is refused.
    if (payload.iat !== undefined && payload.iat > Math.floor(now / 1000) + this.rules.clockSkewSeconds) {
      throw new UnauthenticatedError("the token is issued in the future (iat)");
    }
    return payload;
  }
}

function unverifiedIssuer(token: string): string {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch (error) {
    if (error instanceof errors.JOSEError) {
      throw new UnauthenticatedError("the credential is neither a JWT nor an API key (sgk_…)");
    }
    throw error;
  }
  if (typeof payload.iss !== "string") throw new UnauthenticatedError("the token names no issuer (iss)");
  return payload.iss;
}

/** What was wrong, in the gateway's words: jose's errors are matched by class, never by text. */
function refusal(error: unknown, issuer: string, audience: string): unknown {
  if (error instanceof ApiError) return error;
  if (error instanceof errors.JWTExpired) return new UnauthenticatedError("the token has expired (exp)");
  if (error instanceof errors.JWTClaimValidationFailed) return new UnauthenticatedError(claimProblem(error, audience));
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new UnauthenticatedError(`the token's algorithm (alg) is not one issuer ${issuer} is configured with`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthenticatedError(`the token's signature does not verify with the keys of issuer ${issuer}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthenticatedError(`no key of issuer ${issuer} matches the token's key id (kid) and algorithm`);
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new UnauthenticatedError(`the token names no key id (kid), and issuer ${issuer} has several keys for its algorithm`);
  }
  if (error instanceof errors.JOSEError) return new UnauthenticatedError("the token is malformed");
  return error;
}

function claimProblem(error: errors.JWTClaimValidationFailed, audience: string): string {
  if (error.reason === "missing") return `the token has no ${error.claim} claim`;
  if (error.reason === "invalid") return `the token's ${error.claim} claim is malformed`;
  if (error.claim === "aud") return `the token is not meant for this gateway (its aud does not include ${audience})`;
  if (error.claim === "nbf") return "the token is not valid yet (nbf)";
  return `the token's ${error.claim} claim does not hold`;
}
