/**
 * A real gateway with auth on (PROTOCOL.md section 9), configured through a file as an operator
 * would: one HS256 issuer whose tokens are signed here with jose, and an API key that may publish
 * to `orders`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { newApiKey } from "../../src/auth/authenticator.js";
import type { Grant } from "../../src/auth/principal.js";
import { startTestGateway, type TestGateway } from "./gateway.js";

export const ISSUER = "https://id.example.test";
const SECRET = "a shared secret of the tests, long enough for HS256";

export interface TokenOptions {
  ttlSeconds?: number;
  audience?: string;
  secret?: string;
}

/** A JWT of the configured issuer carrying these grants. */
export function signToken(grants: Grant[], options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ streamgate: { grants } })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? "streamgate")
    .setSubject("user-1")
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

export const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

export interface AuthGateway extends TestGateway {
  /** An API key granted publish on `orders`. */
  publisherKey: string;
}

export interface AuthGatewayOptions {
  allowedOrigins: string[];
  hostnames?: string[];
  /** The gateway's leeway on exp, nbf and iat (its default: 30 s). */
  clockSkewSeconds?: number;
  env?: NodeJS.ProcessEnv;
}

export async function startAuthGateway(options: AuthGatewayOptions): Promise<AuthGateway> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-auth-"));
  const publisher = newApiKey();
  const config = join(dir, "config.json");
  await writeFile(
    config,
    JSON.stringify({
      auth: {
        mode: "required",
        ...(options.clockSkewSeconds !== undefined && { clockSkewSeconds: options.clockSkewSeconds }),
        issuers: [{ issuer: ISSUER, algorithms: ["HS256"], secret: SECRET }],
        apiKeys: [{ name: "orders-backend", sha256: publisher.sha256, grants: [{ streams: ["orders"], actions: ["publish"] }] }],
      },
      allowedOrigins: options.allowedOrigins,
      hostnames: options.hostnames ?? [],
    }),
  );
  try {
    const gw = await startTestGateway({ STREAMGATE_CONFIG: config, ...options.env });
    return {
      ...gw,
      publisherKey: publisher.key,
      async close() {
        await gw.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
