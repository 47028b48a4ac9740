import { readFile } from "node:fs/promises";
import type { JWK, JWTVerifyGetKey } from "jose";
import { KeySetError, verificationKeys } from "./key-set.js";
import { type FetchJwks, RemoteJwks } from "./remote-jwks.js";
import { AuthSettingsError } from "./settings-error.js";

export interface IssuerConfig {
  issuer: string;
  /** Those this issuer signs with; a token's own `alg` only picks among them. */
  algorithms: string[];
  /** A shared secret, its UTF-8 text the HMAC key: for the HS algorithms only. */
  secret?: string;
  jwks?: { keys: JWK[] };
  jwksFile?: string;
  jwksUrl?: string;
}

/** PROTOCOL.md section 9.1; `none` is not among them, so nothing can ask for it. */
const SECRET_ALGORITHMS = new Set(["HS256", "HS384", "HS512"]);
const PUBLIC_KEY_ALGORITHMS = new Set(["RS256", "PS256", "ES256", "ES384", "EdDSA"]);

/** An issuer as verification uses it: its name, its algorithms, and only its own keys. */
export interface TrustedIssuer {
  issuer: string;
  algorithms: string[];
  key: Uint8Array | JWTVerifyGetKey;
}

export interface KeySourceOptions {
  fetchJwks?: FetchJwks;
  now: () => number;
}

export async function trustedIssuers(
  configs: readonly IssuerConfig[],
  options: KeySourceOptions,
): Promise<Map<string, TrustedIssuer>> {
  const issuers = new Map<string, TrustedIssuer>();
  for (const config of configs) {
    if (!config.issuer) throw new AuthSettingsError("auth.issuers: every issuer needs its `issuer` name");
    if (issuers.has(config.issuer)) throw new AuthSettingsError(`auth.issuers: issuer ${config.issuer} is configured twice`);
    const fail = (problem: string) => new AuthSettingsError(`auth.issuers ${config.issuer}: ${problem}`);
    issuers.set(config.issuer, {
      issuer: config.issuer,
      algorithms: checkedAlgorithms(config, fail),
      key: await keyOf(config, options, fail),
    });
  }
  return issuers;
}

type Failure = (problem: string) => AuthSettingsError;

function checkedAlgorithms(config: IssuerConfig, fail: Failure): string[] {
  if (config.algorithms.length === 0) throw fail("list the algorithms it signs with");
  const unknown = config.algorithms.filter((a) => !SECRET_ALGORITHMS.has(a) && !PUBLIC_KEY_ALGORITHMS.has(a));
  if (unknown.length > 0) {
    throw fail(
      `algorithm ${unknown.map((a) => JSON.stringify(a)).join(", ")} is not allowed; ` +
        `use ${[...SECRET_ALGORITHMS, ...PUBLIC_KEY_ALGORITHMS].join(", ")}`,
    );
  }
  const secretAlgorithms = config.algorithms.filter((a) => SECRET_ALGORITHMS.has(a));
  if (config.secret !== undefined && secretAlgorithms.length < config.algorithms.length) {
    throw fail("a secret only verifies HS256, HS384 and HS512; public-key algorithms need jwks, jwksFile or jwksUrl");
  }
  if (config.secret === undefined && secretAlgorithms.length > 0) {
    throw fail(`${secretAlgorithms.join(", ")} needs a secret`);
  }
  return [...config.algorithms];
}

async function keyOf(config: IssuerConfig, options: KeySourceOptions, fail: Failure): Promise<Uint8Array | JWTVerifyGetKey> {
  const sources = (["secret", "jwks", "jwksFile", "jwksUrl"] as const).filter((s) => config[s] !== undefined);
  if (sources.length !== 1) {
    throw fail(`give exactly one of secret, jwks, jwksFile, jwksUrl${sources.length ? ` (not ${sources.join(" and ")})` : ""}`);
  }
  if (config.secret !== undefined) {
    if (config.secret === "") throw fail("the secret is empty");
    return new TextEncoder().encode(config.secret);
  }
  if (config.jwks !== undefined) return localKeys(config.jwks, fail);
  if (config.jwksFile !== undefined) return localKeys(await jwksFileContent(config.jwksFile, fail), fail);
  // Exactly one source, checked above: what is left is the URL.
  return remoteKeys(config.issuer, config.jwksUrl as string, options, fail);
}

async function localKeys(jwks: unknown, fail: Failure): Promise<JWTVerifyGetKey> {
  try {
    return await verificationKeys(jwks);
  } catch (error) {
    throw error instanceof KeySetError ? fail(error.message) : error;
  }
}

async function jwksFileContent(path: string, fail: Failure): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fail(`cannot read jwksFile ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw fail(`jwksFile ${path} is not JSON`);
  }
}

/** The URL comes from the configuration only; where it may lead is the fetch function's policy. */
function remoteKeys(issuer: string, jwksUrl: string, options: KeySourceOptions, fail: Failure) {
  if (!options.fetchJwks) throw fail("jwksUrl needs a way to fetch it, and the gateway gave none");
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw fail(`jwksUrl ${jwksUrl} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw fail("jwksUrl must be https or http");
  return new RemoteJwks(issuer, url, options.fetchJwks, options.now).getKey;
}
