/**
 * A real gateway with auth on (PROTOCOL.md section 9), for tests: one HS256 issuer whose
 * tokens are signed here with jose, and the API keys a test configures.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import type { ApiKeyConfig } from "../../src/auth/authenticator.js";
import type { Grant } from "../../src/auth/principal.js";
import { startTestGateway, type TestGateway } from "./gateway.js";

const ISSUER = "https://id.example.test";
const SECRET = "a shared secret of the tests, long enough for HS256";

export interface SignOptions {
  ttlSeconds?: number;
  audience?: string;
  /** Another secret: a forged token. */
  secret?: string;
}

/** A token of the test issuer for user-1 with these grants; exp in unix seconds. */
export async function signToken(grants: Grant[], options: SignOptions = {}): Promise<{ token: string; exp: number }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (options.ttlSeconds ?? 600);
  const token = await new SignJWT({ streamgate: { grants } })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? "streamgate")
    .setSubject("user-1")
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
  return { token, exp };
}

/**
 * A gateway whose config file (STREAMGATE_CONFIG) requires auth, trusting the test issuer and
 * these API keys; `config` adds other settings (its `auth` adds to the auth settings). close()
 * stops it and removes the file.
 */
export async function startAuthGateway(apiKeys: ApiKeyConfig[], config: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-auth-"));
  const file = join(dir, "config.json");
  const { auth, ...rest } = config as { auth?: Record<string, unknown> };
  const settings = { auth: { mode: "required", issuers: [{ issuer: ISSUER, algorithms: ["HS256"], secret: SECRET }], apiKeys, ...auth }, ...rest };
  await writeFile(file, JSON.stringify(settings));
  try {
    const gw = await startTestGateway({ STREAMGATE_CONFIG: file, ...env });
    return {
      ...gw,
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
