/**
 * The auth matrix of PROTOCOL.md section 9 through a real gateway: every HTTP route and every
 * WebSocket operation, tried with every kind of credential. The expected answer of each check
 * is worked out from what the credential is (absent, not verifiable, or valid with its grants)
 * and what the route needs (9.2), not written per case.
 */
import { createHmac } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApiKey } from "../../src/auth/authenticator.js";
import type { Action, Grant } from "../../src/auth/principal.js";
import { signToken, startAuthGateway } from "../support/auth-gateway.js";
import type { TestGateway } from "../support/gateway.js";
import { client, expectError, type HttpResponse } from "../support/http.js";
import { uid, WsClient, wsUrl } from "../support/ws-client.js";

const TEST_ISSUER = { issuer: "https://id.example.test", secret: "a shared secret of the tests, long enough for HS256" };
const OTHER_ISSUER = { issuer: "https://other.example.test", secret: "the other issuer's own secret, long enough too" };
const RS_ISSUER = "https://rs.example.test";
const SHIPPED = "demo.orders.v1.OrderShipped";
const KEY = "ord-17";

const apiKey = newApiKey();
const API_KEY_GRANTS: Grant[] = [{ streams: ["orders"], actions: ["subscribe", "publish"] }];
const RIGHT_GRANT: Grant[] = [{ streams: ["orders"], actions: ["subscribe", "publish"], keys: [KEY] }];

/** What one route or operation needs (9.2); none: any valid credential. */
interface Need {
  action: Action;
  /** The key and type asked for: a grant narrowed by keys or types covers only these (a read without types= is not type-narrowed). */
  key?: string;
  type?: string;
  /** GET /v1/streams/{stream}: any subscribe grant on the stream, however narrowed. */
  anyFilter?: boolean;
}

/** The documented model of a grant covering a need on stream orders (9.2). */
function grants(held: Grant[], need: Need): boolean {
  return held.some((g) => {
    if (!g.actions.includes(need.action) || !g.streams.some((s) => s === "orders" || s === "*")) return false;
    if (need.anyFilter) return true;
    if (g.keys && (need.key === undefined || !g.keys.includes(need.key))) return false;
    if (g.types && (need.type === undefined || !g.types.includes(need.type))) return false;
    return true;
  });
}

/** A credential kind: absent, refused (does not verify), or valid with its grants. */
type Credential = { name: string; headers: () => Record<string, string> } & ({ is: "absent" } | { is: "invalid" } | { is: "valid"; grants: Grant[] });

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
const claims = (grants: Grant[], iss = TEST_ISSUER.issuer) => ({ iss, aud: "streamgate", sub: "user-1", iat: now(), exp: now() + 600, streamgate: { grants } });
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

let gw: TestGateway;
let rsPrivate: CryptoKey;
let rsPublicPem: string;
let webhookId: string;
const tokens = new Map<string, string>();

function credential(name: string, spec: { is: "absent" } | { is: "invalid"; make: () => Promise<string> } | { is: "valid"; grants: Grant[]; make: () => Promise<string> }, raw = false): Credential & { make?: () => Promise<string> } {
  if (spec.is === "absent") return { name, is: "absent", headers: () => ({}) };
  const headers = () => (raw ? { authorization: tokens.get(name)! } : bearer(tokens.get(name)!));
  return spec.is === "valid" ? { name, is: "valid", grants: spec.grants, headers, make: spec.make } : { name, is: "invalid", headers, make: spec.make };
}

const hs = async (grants: Grant[], options: Parameters<typeof signToken>[1] = {}) => (await signToken(grants, options)).token;

const CREDENTIALS = [
  credential("none", { is: "absent" }),
  credential("malformed", { is: "invalid", make: async () => "Bearer not.a-token" }, true),
  credential("bad signature", { is: "invalid", make: () => hs(RIGHT_GRANT, { secret: "another secret of the same length, but not ours" }) }),
  credential("alg none", { is: "invalid", make: async () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims(RIGHT_GRANT))}.` }),
  credential("HS256 signed with the RS issuer's public key", {
    is: "invalid",
    make: async () => {
      const signingInput = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(claims(RIGHT_GRANT, RS_ISSUER))}`;
      return `${signingInput}.${createHmac("sha256", rsPublicPem).update(signingInput).digest("base64url")}`;
    },
  }),
  credential("another issuer's key", {
    is: "invalid",
    make: () => new SignJWT(claims(RIGHT_GRANT)).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(OTHER_ISSUER.secret)),
  }),
  credential("expired", { is: "invalid", make: () => hs(RIGHT_GRANT, { ttlSeconds: -120 }) }),
  credential("not yet valid", {
    is: "invalid",
    // nbf 10 minutes ahead: well past the 30 s clock skew.
    make: () => new SignJWT({ ...claims(RIGHT_GRANT), nbf: now() + 600, exp: now() + 1200 }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(TEST_ISSUER.secret)),
  }),
  credential("wrong audience", { is: "invalid", make: () => hs(RIGHT_GRANT, { audience: "someone-else" }) }),
  credential("wrong stream", { is: "valid", grants: [{ streams: ["metrics"], actions: ["subscribe", "publish", "admin"] }], make: () => hs([{ streams: ["metrics"], actions: ["subscribe", "publish", "admin"] }]) }),
  credential("wrong key", { is: "valid", grants: [{ streams: ["orders"], actions: ["subscribe", "publish"], keys: ["ord-18"] }], make: () => hs([{ streams: ["orders"], actions: ["subscribe", "publish"], keys: ["ord-18"] }]) }),
  credential("wrong type", {
    is: "valid",
    grants: [{ streams: ["orders"], actions: ["subscribe", "publish"], types: ["demo.orders.v1.OrderCreated"] }],
    make: () => hs([{ streams: ["orders"], actions: ["subscribe", "publish"], types: ["demo.orders.v1.OrderCreated"] }]),
  }),
  credential("right grant", { is: "valid", grants: RIGHT_GRANT, make: () => hs(RIGHT_GRANT) }),
  credential("right grant, RS256 issuer", {
    is: "valid",
    grants: RIGHT_GRANT,
    make: () => new SignJWT(claims(RIGHT_GRANT, RS_ISSUER)).setProtectedHeader({ alg: "RS256", kid: "rs-1" }).sign(rsPrivate),
  }),
  credential("admin", { is: "valid", grants: [{ streams: ["orders"], actions: ["admin"] }], make: () => hs([{ streams: ["orders"], actions: ["admin"] }]) }),
  credential("API key", { is: "valid", grants: API_KEY_GRANTS, make: async () => apiKey.key }),
];

/** The answer a check expects: a success, or the refusal the credential earns. */
type Expected = { ok: true } | { ok: false; code: "unauthenticated" | "permission_denied" };

function expected(cred: Credential, need: Need | undefined, anonymousAllowed = false): Expected {
  if (cred.is === "absent") return anonymousAllowed ? { ok: true } : { ok: false, code: "unauthenticated" };
  if (cred.is === "invalid") return { ok: false, code: "unauthenticated" };
  return need === undefined || grants(cred.grants, need) ? { ok: true } : { ok: false, code: "permission_denied" };
}

const http = () => client(gw.url);
const order = { type: SHIPPED, key: KEY, data: { orderId: KEY } };

function expectHttp(res: HttpResponse, want: Expected, okStatus: number): void {
  if (want.ok) {
    expect(res.status, res.text).toBe(okStatus);
    return;
  }
  expectError(res, want.code === "unauthenticated" ? 401 : 403, want.code);
  expect(res.headers.get("www-authenticate")).toBe(want.code === "unauthenticated" ? 'Bearer error="invalid_token"' : 'Bearer error="insufficient_scope"');
}

interface Route {
  name: string;
  need?: Need;
  check: (cred: Credential, want: Expected) => Promise<void>;
}

const READ_17: Need = { action: "subscribe", key: KEY };
const PUBLISH_17: Need = { action: "publish", key: KEY, type: SHIPPED };
const ADMIN: Need = { action: "admin" };

const httpRoute = (name: string, need: Need | undefined, okStatus: number, send: (headers: Record<string, string>) => Promise<HttpResponse>): Route => ({
  name,
  ...(need && { need }),
  check: async (cred, want) => expectHttp(await send(cred.headers()), want, okStatus),
});

/**
 * A WebSocket operation: a credential that does not verify is refused at the upgrade (401);
 * an absent one is let in (it may still send `auth`, 9.3) and each operation answers for it.
 */
function wsOp(name: string, need: Need | undefined, run: (ws: WsClient, want: Expected) => Promise<void>): Route {
  return {
    name,
    ...(need && { need }),
    check: async (cred, want) => {
      if (cred.is === "invalid") {
        const refused = await WsClient.refused(wsUrl(gw.url, "/v1/ws"), "json", { headers: cred.headers() });
        expect(refused.status).toBe(401);
        expect(refused.body?.error?.code).toBe("unauthenticated");
        expect(refused.headers["www-authenticate"]).toBe('Bearer error="invalid_token"');
        return;
      }
      const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: cred.headers() });
      try {
        await run(ws, want);
      } finally {
        await ws.close();
      }
    },
  };
}

async function expectWsError(ws: WsClient, id: { sub?: string; ref?: string }, want: Expected & { ok: false }): Promise<void> {
  expect(await ws.nextOp("error", id)).toMatchObject({ code: want.code });
}

const ROUTES: Route[] = [
  httpRoute("GET /v1/streams", undefined, 200, (h) => http().get("/v1/streams", h)),
  httpRoute("GET /v1/streams/orders", { action: "subscribe", anyFilter: true }, 200, (h) => http().get("/v1/streams/orders", h)),
  httpRoute("POST /v1/streams/orders/events", PUBLISH_17, 201, (h) => http().postJson("/v1/streams/orders/events", order, h)),
  httpRoute("POST /v1/streams/orders/events:batch", PUBLISH_17, 201, (h) => http().postJson("/v1/streams/orders/events:batch", { events: [order] }, h)),
  httpRoute("GET /v1/streams/orders/poll", READ_17, 200, (h) => http().get(`/v1/streams/orders/poll?wait=0&key=${KEY}`, h)),
  // send() reads a 200 event stream's status and headers only, then cancels it.
  httpRoute("GET /v1/streams/orders/sse", READ_17, 200, (h) => http().get(`/v1/streams/orders/sse?key=${KEY}`, h)),
  httpRoute("POST /v1/webhooks", ADMIN, 201, (h) => http().postJson("/v1/webhooks", { url: "http://127.0.0.1:9/hook", stream: "orders", paused: true }, h)),
  httpRoute("GET /v1/webhooks", undefined, 200, (h) => http().get("/v1/webhooks", h)),
  httpRoute("GET /v1/webhooks/{id}", ADMIN, 200, (h) => http().get(`/v1/webhooks/${webhookId}`, h)),
  wsOp("WS upgrade", undefined, async (ws) => {
    expect(ws.protocol).toBe("streamgate.v1.json");
  }),
  wsOp("WS subscribe", READ_17, async (ws, want) => {
    const sub = uid("s");
    ws.send({ op: "subscribe", sub, stream: "orders", key: KEY, from: "now" });
    if (want.ok) expect(await ws.nextOp("subscribed", { sub })).toMatchObject({ stream: "orders" });
    else await expectWsError(ws, { sub }, want);
  }),
  wsOp("WS publish", PUBLISH_17, async (ws, want) => {
    const ref = uid("p");
    ws.send({ op: "publish", ref, stream: "orders", ...order });
    if (want.ok) expect(await ws.nextOp("published", { ref })).toMatchObject({ offset: expect.any(Number) });
    else await expectWsError(ws, { ref }, want);
  }),
  // A ping asks nothing of the streams: it is answered for any connection let in.
  wsOp("WS ping", undefined, async (ws, want) => {
    const ref = uid("ping");
    ws.send({ op: "ping", ref });
    if (want.ok) expect(await ws.nextOp("pong", { ref })).toEqual({ op: "pong", ref });
    else await expectWsError(ws, { ref }, want);
  }),
];

/** Routes that a connection without a credential may use: the WebSocket is let in, and ping needs nothing. */
const ANONYMOUS_OK = new Set(["WS upgrade", "WS ping"]);

const CASES = CREDENTIALS.flatMap((cred) =>
  ROUTES.map((route) => ({ cred, route, want: expected(cred, route.need, ANONYMOUS_OK.has(route.name)) })),
);

beforeAll(async () => {
  const rs = await generateKeyPair("RS256");
  rsPrivate = rs.privateKey;
  rsPublicPem = await exportSPKI(rs.publicKey);
  const rsJwk = { ...(await exportJWK(rs.publicKey)), kid: "rs-1", alg: "RS256", use: "sig" };
  gw = await startAuthGateway(
    [{ name: "orders-backend", sha256: apiKey.sha256, grants: API_KEY_GRANTS }],
    {
      auth: {
        issuers: [
          { issuer: TEST_ISSUER.issuer, algorithms: ["HS256"], secret: TEST_ISSUER.secret },
          { issuer: OTHER_ISSUER.issuer, algorithms: ["HS256"], secret: OTHER_ISSUER.secret },
          { issuer: RS_ISSUER, algorithms: ["RS256"], jwks: { keys: [rsJwk] } },
        ],
      },
    },
    { STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" },
  );
  for (const cred of CREDENTIALS) if (cred.make) tokens.set(cred.name, await cred.make());
  const created = await http().postJson("/v1/webhooks", { url: "http://127.0.0.1:9/hook", stream: "orders", paused: true }, bearer(await hs([{ streams: ["orders"], actions: ["admin"] }])));
  expect(created.status, created.text).toBe(201);
  webhookId = created.body.id;
  console.log(`auth matrix: ${CREDENTIALS.length} credentials × ${ROUTES.length} routes/ops = ${CASES.length} checks`);
});
afterAll(async () => {
  await gw?.close();
});

describe("auth matrix (9.1-9.3)", () => {
  it("covers every credential kind on every route, with refusals of both kinds and successes", () => {
    expect(CASES).toHaveLength(CREDENTIALS.length * ROUTES.length);
    const outcomes = new Set(CASES.map((c) => (c.want.ok ? "ok" : c.want.code)));
    expect([...outcomes].sort()).toEqual(["ok", "permission_denied", "unauthenticated"]);
  });

  it.each(CASES.map((c) => [c.cred.name, c.route.name, c.want.ok ? "ok" : c.want.code, c] as const))("%s → %s: %s", async (_c, _r, _w, { cred, route, want }) => {
    await route.check(cred, want);
  });
});
