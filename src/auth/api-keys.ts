import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Grant, Principal } from "./principal.js";
import { AuthSettingsError } from "./settings-error.js";
import { UnauthenticatedError } from "./unauthenticated-error.js";

/** What every API key begins with, so it is told from a JWT without parsing (PROTOCOL.md 9.1). */
export const API_KEY_PREFIX = "sgk_";

export interface ApiKeyConfig {
  name: string;
  /** The SHA-256 of the whole key, `sgk_` included, in hex. */
  sha256: string;
  grants: Grant[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

function sha256Of(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** A new API key, to be shown once, and the hash the configuration holds instead of it. */
export function newApiKey(): { key: string; sha256: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString("base64url");
  return { key, sha256: sha256Of(key).toString("hex") };
}

/** The configured API keys, known by their hashes only. */
export class ApiKeyRing {
  private readonly entries: { config: ApiKeyConfig; hash: Buffer }[];

  constructor(configs: readonly ApiKeyConfig[]) {
    const names = new Map<string, string>();
    this.entries = configs.map((config) => {
      if (!config.name) throw new AuthSettingsError("auth.apiKeys: every API key needs a name");
      if (!SHA256_HEX.test(config.sha256)) {
        throw new AuthSettingsError(`auth.apiKeys "${config.name}": sha256 must be 64 hex digits (the SHA-256 of the key)`);
      }
      const hex = config.sha256.toLowerCase();
      const twin = names.get(hex);
      if (twin !== undefined) {
        throw new AuthSettingsError(`auth.apiKeys "${config.name}" and "${twin}" have the same sha256: one key cannot be two`);
      }
      names.set(hex, config.name);
      return { config, hash: Buffer.from(hex, "hex") };
    });
  }

  /**
   * The key's principal. Every configured hash is compared, each in constant time, so neither
   * the answer's time nor its content tells how close a guess came or which key it resembled.
   */
  authenticate(key: string): Principal {
    const hash = sha256Of(key);
    let found: ApiKeyConfig | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.hash, hash)) found = entry.config;
    }
    if (!found) throw new UnauthenticatedError("the API key is not known");
    return { kind: "api-key", name: found.name, grants: found.grants };
  }
}
