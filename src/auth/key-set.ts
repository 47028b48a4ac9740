import { createLocalJWKSet, type CryptoKey, importJWK, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";

/** A key set that would fail only later, when a token needs one of its keys. */
export class KeySetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeySetError";
  }
}

/**
 * A JWKS to verify tokens with, its keys read now: a broken key is found where the key set comes
 * in (the configuration, a JWKS fetch), not as an unexplained failure of some later request.
 */
export async function verificationKeys(jwks: unknown): Promise<JWTVerifyGetKey> {
  let keys: JWTVerifyGetKey;
  try {
    // createLocalJWKSet checks the shape itself: that is what the cast leaves to it.
    keys = createLocalJWKSet(jwks as JSONWebKeySet);
  } catch {
    throw new KeySetError('the key set is not a JWKS ({"keys": [...]})');
  }
  for (const [index, jwk] of (jwks as JSONWebKeySet).keys.entries()) await checkKey(jwk, index);
  return keys;
}

const MIN_RSA_BITS = 2048;

async function checkKey(jwk: JWK, index: number): Promise<void> {
  const name = `key ${jwk.kid === undefined ? `#${index}` : JSON.stringify(jwk.kid)}`;
  if (jwk.d !== undefined) throw new KeySetError(`${name} is a private key: give the gateway public keys only`);
  const verifies = jwk.use !== "enc" && (jwk.key_ops === undefined || jwk.key_ops.includes("verify"));
  const alg = verifies ? (jwk.alg ?? signingAlgorithmOf(jwk)) : undefined;
  // Keys for encryption, or of kinds no allowed algorithm uses, are never chosen to verify.
  if (alg === undefined) return;
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK(jwk, alg);
  } catch {
    throw new KeySetError(`${name} cannot be read as a ${alg} public key`);
  }
  // jose refuses shorter RSA keys only when verifying, with an error that would read as a bug.
  const bits = key instanceof Uint8Array ? undefined : (key.algorithm as { modulusLength?: number }).modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) throw new KeySetError(`${name} has ${bits} bits: RSA keys need ${MIN_RSA_BITS}`);
}

function signingAlgorithmOf(jwk: JWK): string | undefined {
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "EC") return jwk.crv === "P-256" ? "ES256" : jwk.crv === "P-384" ? "ES384" : undefined;
  if (jwk.kty === "OKP") return jwk.crv === "Ed25519" ? "EdDSA" : undefined;
  return undefined;
}
