/**
 * A jwksUrl issuer through a real gateway: the key set is fetched under the webhook network
 * policy (PROTOCOL.md 9.1), so a gateway whose policy does not allow the identity provider's
 * address never reaches it, and says the keys are unavailable (503), not that the token is bad.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAuthGateway } from "../support/auth-gateway.js";
import { expectError, send } from "../support/http.js";

const ISSUER = "https://login.example.test";
let jwks: Server;
let jwksUrl: string;
let fetches = 0;
let sign: () => Promise<string>;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const body = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] });
  jwks = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  sign = () =>
    new SignJWT({ streamgate: { grants: [{ streams: ["orders"], actions: ["subscribe"] }] } })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(ISSUER)
      .setAudience("streamgate")
      .setExpirationTime("5m")
      .sign(privateKey);
});
afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

const issuers = () => [{ issuer: ISSUER, algorithms: ["ES256"], jwksUrl }];

it("with the provider's network allowed, its keys are fetched once and its tokens read", async () => {
  const gw = await startAuthGateway([], { auth: { issuers: issuers() } }, { STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  try {
    const before = fetches;
    for (let i = 0; i < 3; i++) {
      const res = await send(gw.url, { path: "/v1/streams/orders/poll?wait=0", headers: { authorization: `Bearer ${await sign()}` } });
      expect(res.status, res.text).toBe(200);
    }
    expect(fetches - before).toBe(1);
  } finally {
    await gw.close();
  }
});

it("with loopback not allowed, the provider is never dialled: 503 with Retry-After, not 401", async () => {
  const gw = await startAuthGateway([], { auth: { issuers: issuers() } });
  try {
    const before = fetches;
    const res = await send(gw.url, { path: "/v1/streams/orders/poll?wait=0", headers: { authorization: `Bearer ${await sign()}` } });
    expectError(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(fetches).toBe(before);
  } finally {
    await gw.close();
  }
});
