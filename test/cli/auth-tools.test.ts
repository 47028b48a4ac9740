/**
 * `streamgate token` and `streamgate keys create` (issue 10, PROTOCOL.md 9.1), run as a user
 * runs them: the CLI in a child process, reading the configuration named by STREAMGATE_CONFIG.
 * What they print is checked with jose and SHA-256, then used against a real gateway.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Grant } from "../../src/auth/principal.js";
import { startTestGateway } from "../support/gateway.js";
import { client, expectError } from "../support/http.js";

const ISSUER = "https://id.cli.test";
const SECRET = "the cli test's shared secret, long enough for HS384";
const config = (apiKeys: unknown[] = []) => ({
  auth: {
    mode: "required",
    issuers: [
      { issuer: ISSUER, algorithms: ["HS384", "HS256"], secret: SECRET },
      { issuer: "https://rs.cli.test", algorithms: ["RS256"], jwks: { keys: [] } },
    ],
    apiKeys,
  },
});

let dir: string;
let configFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-cli-"));
  configFile = join(dir, "config.json");
  await writeFile(configFile, JSON.stringify(config()));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile("npx", ["tsx", "src/cli/main.ts", ...args], { env: { ...process.env, STREAMGATE_CONFIG: configFile } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function mint(...args: string[]): Promise<string> {
  const run = await cli("token", ...args);
  expect(run.code, run.stderr).toBe(0);
  const lines = run.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

const secret = new TextEncoder().encode(SECRET);

describe("streamgate token", () => {
  it("mints a token the issuer's secret verifies, carrying exactly the grants asked for", async () => {
    const jwt = await mint("--issuer", ISSUER, "--grant", "orders:subscribe:key=ord-17", "--grant", "metrics:subscribe,publish:type=demo.metrics.v1.MetricSample");
    // The first HS algorithm the issuer allows signs.
    expect(decodeProtectedHeader(jwt).alg).toBe("HS384");
    const { payload } = await jwtVerify(jwt, secret, { issuer: ISSUER, audience: "streamgate", algorithms: ["HS384"] });
    const grants: Grant[] = [
      { streams: ["orders"], actions: ["subscribe"], keys: ["ord-17"] },
      { streams: ["metrics"], actions: ["subscribe", "publish"], types: ["demo.metrics.v1.MetricSample"] },
    ];
    expect(payload.streamgate).toEqual({ grants });
    expect(payload.sub).toBe("dev");
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
  });

  it("takes --ttl, --subject and --audience", async () => {
    const jwt = await mint("--issuer", ISSUER, "--grant", "audit-*,orders:admin", "--ttl", "15m", "--subject", "alice", "--audience", "elsewhere");
    const { payload } = await jwtVerify(jwt, secret, { issuer: ISSUER, audience: "elsewhere", algorithms: ["HS384"] });
    expect(payload).toMatchObject({ sub: "alice", streamgate: { grants: [{ streams: ["audit-*", "orders"], actions: ["admin"] }] } });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it("--help prints the usage and the grant syntax", async () => {
    const run = await cli("token", "--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: streamgate token \[options\]/);
    expect(run.stdout).toContain("--issuer <iss>");
    expect(run.stdout).toContain("orders:subscribe:key=ord-17");
  });
});

describe("streamgate keys create", () => {
  it("prints a new key once and the config line holding its sha256 and grants", async () => {
    const run = await cli("keys", "create", "--name", "orders-backend", "--grant", "orders:publish", "--grant", "metrics:publish:type=demo.metrics.v1.MetricSample");
    expect(run.code, run.stderr).toBe(0);
    const [key, line, ...rest] = run.stdout.trim().split("\n");
    expect(rest).toEqual([]);
    expect(key).toMatch(/^sgk_[A-Za-z0-9_-]{43}$/);
    const entry = JSON.parse(line!);
    expect(entry).toEqual({
      name: "orders-backend",
      sha256: createHash("sha256").update(key!).digest("hex"),
      grants: [
        { streams: ["orders"], actions: ["publish"] },
        { streams: ["metrics"], actions: ["publish"], types: ["demo.metrics.v1.MetricSample"] },
      ],
    });
    expect(run.stderr).not.toContain(key);
    const again = await cli("keys", "create", "--name", "orders-backend", "--grant", "orders:publish");
    expect(again.stdout.split("\n")[0]).not.toBe(key);
  });

  it("--help prints the usage", async () => {
    const run = await cli("keys", "create", "--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: streamgate keys create \[options\]/);
    expect(run.stdout).toContain("--name <name>");
  });
});

describe("bad arguments exit 2 with a message and print nothing on stdout", () => {
  const cases: [string, string[], RegExp][] = [
    ["token without --issuer", ["token", "--grant", "orders:subscribe"], /required option '--issuer <iss>' not specified/],
    ["token for an unknown issuer", ["token", "--issuer", "https://nobody.test", "--grant", "orders:subscribe"], /not in auth\.issuers/],
    ["token for an issuer without a secret", ["token", "--issuer", "https://rs.cli.test", "--grant", "orders:subscribe"], /no shared "secret"/],
    ["token without --grant", ["token", "--issuer", ISSUER], /at least one --grant/],
    ["a grant without actions", ["token", "--issuer", ISSUER, "--grant", "orders"], /no actions/],
    ["an unknown action", ["token", "--issuer", ISSUER, "--grant", "orders:fly"], /--grant orders:fly: actions/],
    ["an unknown narrowing", ["token", "--issuer", ISSUER, "--grant", "orders:subscribe:colour=red"], /"colour=red" is not key=/],
    ["a * inside a stream name", ["token", "--issuer", ISSUER, "--grant", "ord*ers:subscribe"], /may only end a stream prefix/],
    ["a ttl that is not a duration", ["token", "--issuer", ISSUER, "--grant", "orders:subscribe", "--ttl", "soon"], /--ttl soon/],
    ["an unknown option", ["token", "--issuer", ISSUER, "--grant", "orders:subscribe", "--bogus"], /--bogus/],
    ["a stray argument", ["token", "--issuer", ISSUER, "--grant", "orders:subscribe", "extra"], /too many arguments for 'token'/],
    ["keys create without --name", ["keys", "create", "--grant", "orders:publish"], /required option '--name <name>' not specified/],
    ["keys create without --grant", ["keys", "create", "--name", "x"], /at least one --grant/],
    ["keys create with a bad grant", ["keys", "create", "--name", "x", "--grant", ":publish"], /no streams/],
  ];
  it.each(cases)("%s", async (_name, args, message) => {
    const run = await cli(...args);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/add --help for the usage/);
    expect(run.stdout).toBe("");
  });
});

describe("end to end", () => {
  it("a gateway with that configuration accepts the minted token for a read and the key for a publish", async () => {
    const created = await cli("keys", "create", "--name", "orders-backend", "--grant", "orders:publish");
    expect(created.code, created.stderr).toBe(0);
    const [key, line] = created.stdout.trim().split("\n");
    await writeFile(configFile, JSON.stringify(config([JSON.parse(line!)])));
    const jwt = await mint("--issuer", ISSUER, "--grant", "orders:subscribe:key=ord-17");

    const gw = await startTestGateway({ STREAMGATE_CONFIG: configFile });
    try {
      const api = client(gw.url);
      const publish = (credential: string) =>
        api.postJson("/v1/streams/orders/events", { type: "demo.orders.v1.OrderShipped", data: { orderId: "ord-17" } }, { authorization: `Bearer ${credential}` });
      const stored = await publish(key!);
      expect(stored.status, stored.text).toBe(201);
      const read = await api.get(`/v1/streams/orders/poll?from=${stored.body.offset}&wait=0&key=ord-17`, { authorization: `Bearer ${jwt}` });
      expect(read.status, read.text).toBe(200);
      expect(read.body.events.map((e: { offset: number }) => e.offset)).toEqual([stored.body.offset]);
      // Each holds only what it was given.
      expectError(await publish(jwt), 403, "permission_denied");
      expectError(await api.get("/v1/streams/orders/poll?wait=0&key=ord-18", { authorization: `Bearer ${jwt}` }), 403, "permission_denied");
      expectError(await api.get("/v1/streams/orders/poll?wait=0&key=ord-17", { authorization: `Bearer ${key}` }), 403, "permission_denied");
    } finally {
      await gw.close();
    }
  });
});
