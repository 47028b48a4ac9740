import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../test/support/wait.js";
import {
  type AuthSettings,
  Authenticator,
  AuthSettingsError,
  type IssuerConfig,
  IssuerKeysUnavailableError,
  newApiKey,
  UnauthenticatedError,
} from "./authenticator.js";
import type { Grant } from "./principal.js";

const AUDIENCE = "streamgate";
const SKEW = 30;
const SECRET = "a shared secret of the HS issuer";
const ISSUERS = {
  hs: "https://hs.example.com",
  rs: "https://rs.example.com",
  es: "https://es.example.com",
  ed: "https://ed.example.com",
  other: "https://other.example.com",
  url: "https://url.example.com",
};
const GRANTS: Grant[] = [
  { streams: ["orders"], actions: ["subscribe"], keys: ["ord-17"] },
  { streams: ["audit-*"], actions: ["publish", "admin"], types: ["demo.v1.Audit"] },
];

interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keyPair(alg: string, kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims of a token every check accepts; a test overrides some, `undefined` leaves one out. */
function claims(iss: string, overrides: JWTPayload = {}, at = nowSeconds()): JWTPayload {
  const all: JWTPayload = { iss, aud: AUDIENCE, sub: "alice", iat: at, exp: at + 300, streamgate: { grants: GRANTS }, ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

function sign(payload: JWTPayload, key: CryptoKey | Uint8Array, header: { alg: string; kid?: string; jku?: string }) {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

const secretKey = (text: string) => new TextEncoder().encode(text);

async function refusal(authenticating: Promise<unknown>): Promise<UnauthenticatedError> {
  const error = await authenticating.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  return error as UnauthenticatedError;
}

/** Refused as unauthenticated, for the reason given, and without a trace of the credential. */
async function expectRefused(auth: Authenticator, credential: string, reason: RegExp) {
  const error = await refusal(auth.authenticate(credential));
  expect(error.code).toBe("unauthenticated");
  expect(error.status).toBe(401);
  expect(error.message).toMatch(reason);
  for (const part of credential.split(".").filter((p) => p.length >= 8)) expect(error.message).not.toContain(part);
}

let rs: KeyPair;
let es: KeyPair;
let ed: KeyPair;
let other: KeyPair;
let auth: Authenticator;
let jwksDir: string;

beforeAll(async () => {
  rs = await keyPair("RS256", "k1");
  es = await keyPair("ES256", "k1");
  ed = await keyPair("EdDSA", "k1");
  // The same kid as rs's key: a cache keyed by kid alone would mix the two issuers up.
  other = await keyPair("RS256", "k1");
  jwksDir = await mkdtemp(join(tmpdir(), "streamgate-auth-"));
  await writeFile(join(jwksDir, "es.json"), JSON.stringify({ keys: [es.publicJwk] }));
  auth = await Authenticator.create(settings([
    { issuer: ISSUERS.hs, algorithms: ["HS256"], secret: SECRET },
    { issuer: ISSUERS.rs, algorithms: ["RS256"], jwks: { keys: [rs.publicJwk] } },
    { issuer: ISSUERS.es, algorithms: ["ES256"], jwksFile: join(jwksDir, "es.json") },
    { issuer: ISSUERS.ed, algorithms: ["EdDSA"], jwks: { keys: [ed.publicJwk] } },
    { issuer: ISSUERS.other, algorithms: ["RS256"], jwks: { keys: [other.publicJwk] } },
  ]));
});

afterAll(async () => {
  await rm(jwksDir, { recursive: true, force: true });
});

function settings(issuers: IssuerConfig[], overrides: Partial<AuthSettings> = {}): AuthSettings {
  return { audience: AUDIENCE, grantsClaim: "streamgate", clockSkewSeconds: SKEW, issuers, apiKeys: [], ...overrides };
}

describe("JWT access tokens", () => {
  it("accepts a good HS256, RS256, ES256 and EdDSA token, with its subject, grants and expiry", async () => {
    const exp = nowSeconds() + 120;
    const tokens = [
      await sign(claims(ISSUERS.hs, { exp }), secretKey(SECRET), { alg: "HS256" }),
      await sign(claims(ISSUERS.rs, { exp }), rs.privateKey, { alg: "RS256", kid: "k1" }),
      await sign(claims(ISSUERS.es, { exp }), es.privateKey, { alg: "ES256", kid: "k1" }),
      await sign(claims(ISSUERS.ed, { exp }), ed.privateKey, { alg: "EdDSA", kid: "k1" }),
    ];
    for (const token of tokens) {
      expect(await auth.authenticate(token)).toEqual({ kind: "token", name: "alice", grants: GRANTS, expiresAt: exp });
    }
  });

  it("names a token without sub 'token', and gives a token without a valid grants claim no grants", async () => {
    const noSub = await sign(claims(ISSUERS.hs, { sub: undefined }), secretKey(SECRET), { alg: "HS256" });
    expect((await auth.authenticate(noSub)).name).toBe("token");
    const shapes = [
      undefined,
      "admin",
      { grants: [{ streams: ["orders"], actions: ["delete"] }] },
      { grants: [{ streams: ["a*b"], actions: ["admin"] }] },
      { grants: [{ streams: ["orders"], actions: ["admin"], kinds: ["x"] }] },
    ];
    for (const streamgate of shapes) {
      const token = await sign(claims(ISSUERS.hs, { streamgate }), secretKey(SECRET), { alg: "HS256" });
      expect((await auth.authenticate(token)).grants).toEqual([]);
    }
  });

  it("refuses what is not a JWT", async () => {
    for (const credential of ["", "not-a-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30", "x.y.z.v.w"]) {
      await expectRefused(auth, credential, /neither a JWT nor an API key/);
    }
  });

  it("refuses a bad signature and a payload changed after signing", async () => {
    await expectRefused(auth, await sign(claims(ISSUERS.hs), secretKey("another secret"), { alg: "HS256" }), /signature/);
    const [header, , signature] = (await sign(claims(ISSUERS.hs, { streamgate: { grants: [] } }), secretKey(SECRET), { alg: "HS256" })).split(".");
    const widened = Buffer.from(JSON.stringify(claims(ISSUERS.hs))).toString("base64url");
    await expectRefused(auth, `${header}.${widened}.${signature}`, /signature/);
  });

  it("refuses alg none", async () => {
    for (const iss of [ISSUERS.hs, ISSUERS.rs]) {
      await expectRefused(auth, new UnsecuredJWT(claims(iss)).encode(), /algorithm/);
    }
  });

  it("refuses an HS256 token whose secret is the RS issuer's public key", async () => {
    const rsPublicPem = await exportSPKI((await importJWK(rs.publicJwk, "RS256", { extractable: true })) as CryptoKey);
    for (const secret of [rsPublicPem, JSON.stringify(rs.publicJwk)]) {
      await expectRefused(auth, await sign(claims(ISSUERS.rs), secretKey(secret), { alg: "HS256", kid: "k1" }), /algorithm/);
    }
  });

  it("tries only the named issuer's keys, though another issuer's key has the same kid", async () => {
    await expectRefused(auth, await sign(claims(ISSUERS.rs), other.privateKey, { alg: "RS256", kid: "k1" }), /signature/);
    await expectRefused(auth, await sign(claims(ISSUERS.other), rs.privateKey, { alg: "RS256", kid: "k1" }), /signature/);
    await expectRefused(auth, await sign(claims(ISSUERS.es), rs.privateKey, { alg: "RS256", kid: "k1" }), /algorithm/);
  });

  it("refuses an unknown issuer and a token without iss", async () => {
    await expectRefused(auth, await sign(claims("https://evil.example.com"), secretKey(SECRET), { alg: "HS256" }), /issuer \(iss\) is not one/);
    await expectRefused(auth, await sign(claims(ISSUERS.hs, { iss: undefined }), secretKey(SECRET), { alg: "HS256" }), /no issuer/);
  });

  it("refuses a token expired beyond the skew, and accepts one within it", async () => {
    const hs = (overrides: JWTPayload) => sign(claims(ISSUERS.hs, overrides), secretKey(SECRET), { alg: "HS256" });
    await expectRefused(auth, await hs({ iat: nowSeconds() - 600, exp: nowSeconds() - SKEW - 5 }), /expired/);
    expect((await auth.authenticate(await hs({ exp: nowSeconds() - SKEW + 10 }))).kind).toBe("token");
  });

  it("refuses a token not valid yet (nbf) or issued in the future (iat) beyond the skew, and accepts one within it", async () => {
    const hs = (overrides: JWTPayload) => sign(claims(ISSUERS.hs, overrides), secretKey(SECRET), { alg: "HS256" });
    await expectRefused(auth, await hs({ nbf: nowSeconds() + SKEW + 10 }), /not valid yet/);
    await expectRefused(auth, await hs({ iat: nowSeconds() + SKEW + 10 }), /issued in the future/);
    expect((await auth.authenticate(await hs({ nbf: nowSeconds() + SKEW - 10, iat: nowSeconds() + SKEW - 10 }))).kind).toBe("token");
  });

  it("refuses a wrong or missing audience, and accepts an aud list that includes it", async () => {
    const hs = (overrides: JWTPayload) => sign(claims(ISSUERS.hs, overrides), secretKey(SECRET), { alg: "HS256" });
    await expectRefused(auth, await hs({ aud: "someone-else" }), /not meant for this gateway/);
    await expectRefused(auth, await hs({ aud: undefined }), /no aud claim/);
    expect((await auth.authenticate(await hs({ aud: ["someone-else", AUDIENCE] }))).kind).toBe("token");
  });

  it("refuses a token without exp, or with a malformed one", async () => {
    const hs = (overrides: JWTPayload) => sign(claims(ISSUERS.hs, overrides), secretKey(SECRET), { alg: "HS256" });
    await expectRefused(auth, await hs({ exp: undefined }), /no exp claim/);
    await expectRefused(auth, await hs({ exp: "tomorrow" as unknown as number }), /exp claim is malformed/);
  });

  it("refuses a kid the issuer does not have", async () => {
    await expectRefused(auth, await sign(claims(ISSUERS.rs), rs.privateKey, { alg: "RS256", kid: "k9" }), /no key of issuer/);
  });

  it("gives random strings and random JWT-shaped strings nothing but UnauthenticatedError, never echoing them", async () => {
    const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
    const jwtShaped = fc
      .record({
        header: fc.record(
          {
            alg: fc.constantFrom("HS256", "RS256", "ES256", "EdDSA", "none", "PS256", "HS512"),
            kid: fc.constantFrom("k1", "k2"),
            crit: fc.array(fc.string()),
            b64: fc.boolean(),
          },
          { requiredKeys: ["alg"] },
        ),
        payload: fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              iss: fc.constantFrom(...Object.values(ISSUERS), "x"),
              aud: fc.constant(AUDIENCE),
              exp: fc.oneof(fc.integer(), fc.double(), fc.string()),
            },
            { requiredKeys: ["iss"] },
          ),
        ),
        signature: fc.oneof(fc.string(), fc.uint8Array().map((bytes) => Buffer.from(bytes).toString("base64url"))),
      })
      .map(({ header, payload, signature }) => `${b64(header)}.${b64(payload)}.${signature}`);
    const credential = fc.oneof(fc.string(), fc.string().map((s) => `sgk_${s}`), fc.string({ unit: "binary" }), jwtShaped);
    await fc.assert(
      fc.asyncProperty(credential, async (random) => {
        const error = await refusal(auth.authenticate(random));
        if (random.length >= 12) expect(error.message).not.toContain(random);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("a JWKS URL", () => {
  let server: Server;
  let served: { keys: JWK[] };
  let status = 200;
  let requests = 0;
  let jwksUrl: string;
  let attacker: Server;
  let attackerRequests = 0;
  let attackerUrl: string;

  const fetchJwks = async (url: URL): Promise<unknown> => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    return response.json();
  };

  /** Answers wait for this: a test holds it to keep a fetch in flight. */
  let gate: Promise<void> = Promise.resolve();

  async function listen(handle: () => { status: number; body: unknown }): Promise<{ server: Server; url: string }> {
    const s = createServer((_request, response) => {
      const { status: code, body } = handle();
      void gate.then(() => response.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body)));
    });
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/jwks.json` };
  }

  beforeAll(async () => {
    ({ server, url: jwksUrl } = await listen(() => (requests++, { status, body: served })));
    ({ server: attacker, url: attackerUrl } = await listen(() => (attackerRequests++, { status: 200, body: { keys: [] } })));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => attacker.close(resolve));
  });

  /** An authenticator for the URL issuer, on a clock the test moves, and a fresh count. */
  async function urlIssuer(keys: JWK[]) {
    served = { keys };
    status = 200;
    requests = 0;
    const clock = { ms: Date.now() };
    const authenticator = await Authenticator.create(
      settings([{ issuer: ISSUERS.url, algorithms: ["RS256", "ES256"], jwksUrl }]),
      { fetchJwks, now: () => clock.ms },
    );
    const token = (key: KeyPair, kid: string, alg = "RS256") =>
      sign(claims(ISSUERS.url, {}, Math.floor(clock.ms / 1000)), key.privateKey, { alg, kid });
    return { authenticator, clock, token };
  }

  it("fetches when a token first needs it, then serves from the cache", async () => {
    const { authenticator, token } = await urlIssuer([rs.publicJwk]);
    expect(requests).toBe(0);
    expect((await authenticator.authenticate(await token(rs, "k1"))).kind).toBe("token");
    expect((await authenticator.authenticate(await token(rs, "k1"))).kind).toBe("token");
    expect(requests).toBe(1);
  });

  it("refetches on an unknown kid at most once a minute, with one fetch for a burst", async () => {
    const { authenticator, clock, token } = await urlIssuer([rs.publicJwk]);
    const rotated = { ...other.publicJwk, kid: "k2" };
    await authenticator.authenticate(await token(rs, "k1"));
    served = { keys: [rs.publicJwk, rotated] };
    const burst = await Promise.all(Array.from({ length: 20 }, () => token(other, "k2")));
    for (const refused of burst) await expectRefused(authenticator, refused, /no key of issuer/);
    expect(requests).toBe(1);

    clock.ms += 60_000;
    const results = await Promise.all(burst.map((t) => authenticator.authenticate(t)));
    expect(results.every((principal) => principal.kind === "token")).toBe(true);
    expect(requests).toBe(2);
    await expectRefused(authenticator, await token(other, "k3"), /no key of issuer/);
    expect(requests).toBe(2);

    clock.ms += 59_000;
    await expectRefused(authenticator, await token(other, "k3"), /no key of issuer/);
    expect(requests).toBe(2);
  });

  it("starts no second fetch while one is in flight, though the minute has passed", async () => {
    const { authenticator, clock, token } = await urlIssuer([rs.publicJwk]);
    let release = () => {};
    gate = new Promise((resolve) => (release = resolve));
    const first = authenticator.authenticate(await token(rs, "k1"));
    await until(() => requests === 1, "the JWKS server to get the first request");
    clock.ms += 60_000;
    const second = authenticator.authenticate(await token(rs, "k1"));
    release();
    gate = Promise.resolve();
    expect((await Promise.all([first, second])).map((principal) => principal.kind)).toEqual(["token", "token"]);
    expect(requests).toBe(1);
  });

  it("fetches nothing for a token whose iss is unknown, nor from a jku the token names", async () => {
    const { authenticator, token } = await urlIssuer([rs.publicJwk]);
    const foreign = await sign(claims("https://evil.example.com"), rs.privateKey, { alg: "RS256", kid: "k1", jku: attackerUrl });
    await expectRefused(authenticator, foreign, /issuer \(iss\) is not one/);
    expect(requests).toBe(0);
    const steered = await sign(claims(ISSUERS.url), other.privateKey, { alg: "RS256", kid: "k1", jku: attackerUrl });
    await expectRefused(authenticator, steered, /signature/);
    expect((await authenticator.authenticate(await token(rs, "k1"))).kind).toBe("token");
    expect(requests).toBe(1);
    expect(attackerRequests).toBe(0);
  });

  it("answers 503 with Retry-After while no readable keys can be fetched, without retrying inside the minute", async () => {
    const { authenticator, clock, token } = await urlIssuer([rs.publicJwk]);
    status = 500;
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await authenticator.authenticate(await token(rs, "k1")).then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(IssuerKeysUnavailableError);
      expect((failure as IssuerKeysUnavailableError).status).toBe(503);
      expect((failure as IssuerKeysUnavailableError).retryAfter).toBeGreaterThanOrEqual(1);
    }
    expect(requests).toBe(1);
    served = { keys: [{ ...rs.publicJwk, n: "AQAB" }] };
    status = 200;
    clock.ms += 60_000;
    expect(await authenticator.authenticate(await token(rs, "k1")).catch((error: unknown) => error)).toBeInstanceOf(IssuerKeysUnavailableError);
    expect(requests).toBe(2);
    served = { keys: [rs.publicJwk] };
    clock.ms += 60_000;
    expect((await authenticator.authenticate(await token(rs, "k1"))).kind).toBe("token");
    expect(requests).toBe(3);
  });

  it("stops trusting a withdrawn key once the cache is ten minutes old, and keeps its keys when a refetch fails", async () => {
    const { authenticator, clock, token } = await urlIssuer([rs.publicJwk, es.publicJwk]);
    await authenticator.authenticate(await token(rs, "k1"));
    status = 500;
    clock.ms += 10 * 60_000;
    expect((await authenticator.authenticate(await token(rs, "k1"))).kind).toBe("token");
    expect(requests).toBe(2);
    status = 200;
    served = { keys: [es.publicJwk] };
    clock.ms += 60_000;
    await expectRefused(authenticator, await token(rs, "k1"), /no key of issuer/);
    expect((await authenticator.authenticate(await token(es, "k1", "ES256"))).kind).toBe("token");
    expect(requests).toBe(3);
  });
});

describe("API keys", () => {
  it("accepts a configured key with its name and grants, whatever the case of its hash", async () => {
    const { key, sha256 } = newApiKey();
    expect(key).toMatch(/^sgk_[A-Za-z0-9_-]{43}$/);
    const keyAuth = await Authenticator.create(
      settings([], { apiKeys: [{ name: "orders-backend", sha256: sha256.toUpperCase(), grants: GRANTS }] }),
    );
    expect(await keyAuth.authenticate(key)).toEqual({ kind: "api-key", name: "orders-backend", grants: GRANTS });
  });

  it("refuses a wrong or unknown key without echoing it", async () => {
    const configured = newApiKey();
    const keyAuth = await Authenticator.create(settings([], { apiKeys: [{ name: "a", sha256: configured.sha256, grants: [] }] }));
    const wrong = `${configured.key.slice(0, -1)}${configured.key.endsWith("A") ? "B" : "A"}`;
    for (const key of [wrong, newApiKey().key, "sgk_", "sgk_short"]) await expectRefused(keyAuth, key, /API key is not known/);
  });
});

describe("settings", () => {
  /** The RS issuer, changed as a case says; `undefined` leaves a field out. */
  const rsIssuer = (changes: Partial<IssuerConfig>): Partial<AuthSettings> => ({
    issuers: [{ issuer: ISSUERS.rs, algorithms: ["RS256"], jwks: { keys: [rs.publicJwk] }, ...changes }],
  });
  const hsIssuer = (changes: Partial<IssuerConfig>): Partial<AuthSettings> => ({
    issuers: [{ issuer: ISSUERS.hs, algorithms: ["HS256"], secret: SECRET, ...changes }],
  });
  const apiKey = (name: string, sha256: string) => ({ name, sha256, grants: [] });
  const cases: [string, () => Partial<AuthSettings>, RegExp][] = [
    ["alg none", () => rsIssuer({ algorithms: ["none"] }), /rs\.example\.com: algorithm "none" is not allowed/],
    ["an unknown algorithm", () => rsIssuer({ algorithms: ["RS256", "XS1"] }), /rs\.example\.com: algorithm "XS1" is not allowed/],
    ["no algorithms", () => rsIssuer({ algorithms: [] }), /rs\.example\.com: list the algorithms/],
    ["HS without a secret", () => rsIssuer({ algorithms: ["HS256"] }), /rs\.example\.com: HS256 needs a secret/],
    ["a secret with RS256", () => hsIssuer({ algorithms: ["HS256", "RS256"] }), /hs\.example\.com: a secret only verifies/],
    ["an empty secret", () => hsIssuer({ secret: "" }), /hs\.example\.com: the secret is empty/],
    ["two key sources", () => rsIssuer({ jwksUrl: "https://x/" }), /rs\.example\.com: give exactly one .* \(not jwks and jwksUrl\)/],
    ["no key source", () => rsIssuer({ jwks: undefined }), /rs\.example\.com: give exactly one of secret, jwks, jwksFile, jwksUrl$/],
    ["a malformed jwks", () => rsIssuer({ jwks: { keys: "x" } as unknown as { keys: JWK[] } }), /rs\.example\.com: the key set is not a JWKS/],
    ["a private key", () => rsIssuer({ jwks: { keys: [{ ...rs.publicJwk, d: "c2VjcmV0" }] } }), /rs\.example\.com: key "k1" is a private key/],
    [
      "a key that cannot be read",
      () => rsIssuer({ jwks: { keys: [rs.publicJwk, { kty: "RSA", n: "AQAB" }] } }),
      /rs\.example\.com: key #1 cannot be read as a RS256 public key/,
    ],
    [
      "an RSA key too short",
      () => rsIssuer({ jwks: { keys: [{ kty: "RSA", kid: "tiny", n: "AQAB", e: "AQAB" }] } }),
      /rs\.example\.com: key "tiny" has 17 bits: RSA keys need 2048/,
    ],
    [
      "a missing jwksFile",
      () => rsIssuer({ jwks: undefined, jwksFile: join(jwksDir, "missing.json") }),
      /rs\.example\.com: cannot read jwksFile .*ENOENT/,
    ],
    [
      "a jwksUrl without a fetch function",
      () => rsIssuer({ jwks: undefined, jwksUrl: "https://idp.example.io/jwks" }),
      /rs\.example\.com: jwksUrl needs a way/,
    ],
    [
      "the same issuer twice",
      () => ({ issuers: [...hsIssuer({}).issuers!, ...hsIssuer({ secret: "2" }).issuers!] }),
      /issuer https:\/\/hs\.example\.com is configured twice/,
    ],
    ["an API key hash that is not SHA-256 hex", () => ({ apiKeys: [apiKey("backend", "abc")] }), /"backend": sha256 must be 64 hex digits/],
    [
      "two API keys with one hash",
      () => ({ apiKeys: [apiKey("a", "0".repeat(64)), apiKey("b", "0".repeat(64))] }),
      /"b" and "a" have the same sha256/,
    ],
    ["no audience", () => ({ audience: "", ...hsIssuer({}) }), /auth\.audience must name this gateway/],
    ["no credential at all", () => ({ issuers: [], apiKeys: [] }), /neither issuers nor apiKeys/],
  ];

  it.each(cases)("refuses %s, naming what is at fault", async (_case, overrides, message) => {
    const creating = Authenticator.create(settings([], overrides()));
    await expect(creating).rejects.toThrow(AuthSettingsError);
    await expect(creating).rejects.toThrow(message);
  });

  it("refuses a jwksFile that is not JSON, and a jwksUrl that is not http(s)", async () => {
    const notJson = join(jwksDir, "not.json");
    await writeFile(notJson, "keys: []");
    await expect(Authenticator.create(settings([], rsIssuer({ jwks: undefined, jwksFile: notJson })))).rejects.toThrow(
      /rs\.example\.com: jwksFile .* is not JSON/,
    );
    const fetchJwks = async () => ({ keys: [] });
    const fileUrl = settings([], rsIssuer({ jwks: undefined, jwksUrl: "file:///etc/passwd" }));
    await expect(Authenticator.create(fileUrl, { fetchJwks })).rejects.toThrow(/rs\.example\.com: jwksUrl must be https or http/);
  });
});
