import { createHmac, createSecretKey, type KeyObject } from "node:crypto";

/**
 * Standard Webhooks v1 signatures of one secret: base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"
 * keyed by the base64-decoded secret. The same bytes the standardwebhooks package signs (a
 * Buffer body as its UTF-8 text, as the package reads it, so its verify() still agrees), made
 * by node:crypto: the package's SHA-256 in JavaScript was the costliest step of a delivery
 * after the HTTP request itself.
 */
export class Signer {
  readonly #key: KeyObject;

  constructor(secret: string) {
    this.#key = createSecretKey(Buffer.from(secret.replace(/^whsec_/, ""), "base64"));
  }

  sign(id: string, timestampSeconds: number, body: string | Buffer): string {
    const text = typeof body === "string" ? body : body.toString();
    return `v1,${createHmac("sha256", this.#key).update(`${id}.${timestampSeconds}.${text}`).digest("base64")}`;
  }
}
