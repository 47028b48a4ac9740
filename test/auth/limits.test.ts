/**
 * PROTOCOL.md section 9.5 through real gateways: each limit refuses exactly past its configured
 * value, with its documented answer, while another credential (or address) is served at the
 * same moment; what was released lets the refused credential in again.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApiKey } from "../../src/auth/authenticator.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, expectError, type HttpResponse } from "../support/http.js";
import { scrapeMetrics } from "../support/metrics.js";
import { SseConnection } from "../support/sse-frames.js";
import { WsClient, wsUrl } from "../support/ws-client.js";

const LIMITS = { connectionsPerCredential: 3, connectionsTotal: 5, publishesPerSecond: 2, longPollsPerCredential: 2 };
const EVERYTHING = [{ streams: ["*"], actions: ["subscribe", "publish"] }];
const alice = newApiKey();
const bob = newApiKey();
const carol = newApiKey();

let dir: string;
let gw: TestGateway;
let open: TestGateway;

async function configFile(name: string, config: object): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(config));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-limits-"));
  const apiKeys = [alice, bob, carol].map((k, i) => ({ name: `backend-${i}`, sha256: k.sha256, grants: EVERYTHING }));
  const [withAuth, withoutAuth] = await Promise.all([
    configFile("auth.json", { auth: { mode: "required", apiKeys }, limits: LIMITS }),
    configFile("open.json", { limits: { connectionsPerCredential: 2 } }),
  ]);
  [gw, open] = await Promise.all([startTestGateway({ STREAMGATE_CONFIG: withAuth }), startTestGateway({ STREAMGATE_CONFIG: withoutAuth })]);
});
afterAll(async () => {
  await Promise.all([gw?.close(), open?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const bearer = (key: { key: string }) => ({ authorization: `Bearer ${key.key}` });
const sseUrl = (base: string) => `${base}/v1/streams/metrics/sse?from=now`;
const publish = (key: { key: string }, name: string) =>
  client(gw.url).postJson("/v1/streams/metrics/events", { data: { name, value: 1 } }, bearer(key));

/** Open connections by the gateway's own gauge, summed over protocols. */
async function openConnections(base: string): Promise<number> {
  const lines = (await scrapeMetrics(base)).split("\n").filter((l) => l.startsWith("streamgate_open_connections{"));
  return lines.reduce((sum, line) => sum + Number(line.split(" ")[1]), 0);
}

async function untilOpen(base: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = await openConnections(base);
  while (seen !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} open connections, the gateway counts ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen = await openConnections(base);
  }
}

async function sseRefusal(connection: SseConnection): Promise<HttpResponse> {
  const text = await connection.response.text();
  return { status: connection.status, headers: connection.headers, body: JSON.parse(text), text, bytes: new Uint8Array(), ms: 0 };
}

function expectRetryAfter(res: { headers: Headers }): void {
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

/** A WebSocket over a limit: told why in an error frame, then closed with 1013 (try again later). */
async function expectWsRefused(ws: WsClient, code: string): Promise<void> {
  expect(await ws.nextOp("error")).toMatchObject({ code });
  expect((await ws.waitClosed(5_000)).code).toBe(1013);
}

/** A long poll that waits (nothing is published on `orders` here) until aborted. */
function hangingPoll(key: { key: string }): { abort(): Promise<void> } {
  const controller = new AbortController();
  const done = fetch(`${gw.url}/v1/streams/orders/poll?from=now&wait=30`, { headers: bearer(key), signal: controller.signal }).then(
    (res) => {
      throw new Error(`the poll answered ${res.status} before it was aborted`);
    },
    (err: unknown) => {
      if (!(err instanceof Error && err.name === "AbortError")) throw err;
    },
  );
  return {
    abort: async () => {
      controller.abort();
      await done;
    },
  };
}

describe("limits (9.5)", () => {
  it("connections per credential: the one past the limit is 429 on SSE and poll, error + 1013 on WebSocket; another credential is served", async () => {
    const held = [await SseConnection.open(sseUrl(gw.url), { headers: bearer(alice) }), await SseConnection.open(sseUrl(gw.url), { headers: bearer(alice) })];
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: bearer(alice) });
    try {
      for (const c of held) expect(c.status).toBe(200);
      await untilOpen(gw.url, 3);

      const refused = await SseConnection.open(sseUrl(gw.url), { headers: bearer(alice) });
      const answer = await sseRefusal(refused);
      expectError(answer, 429, "rate_limited");
      expectRetryAfter(answer);
      const poll = await client(gw.url).get("/v1/streams/metrics/poll?wait=0", bearer(alice));
      expectError(poll, 429, "rate_limited");
      expectRetryAfter(poll);
      await expectWsRefused(await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: bearer(alice) }), "rate_limited");
      await expectWsRefused(await WsClient.connect(wsUrl(gw.url, "/v1/streams/metrics/ws?from=now"), "json", { headers: bearer(alice) }), "rate_limited");

      const other = await SseConnection.open(sseUrl(gw.url), { headers: bearer(bob) });
      expect(other.status).toBe(200);
      await other.close();
      // Alice's own connections go on: her WebSocket still answers.
      expect((await ws.ping()).op).toBe("pong");

      await held.pop()!.close();
      await untilOpen(gw.url, 2);
      expect((await client(gw.url).get("/v1/streams/metrics/poll?wait=0", bearer(alice))).status).toBe(200);
    } finally {
      await Promise.all([...held.map((c) => c.close()), ws.close()]);
    }
    await untilOpen(gw.url, 0);
  });

  it("concurrent long polls per credential: the one past the limit is 429; another credential polls", async () => {
    const polls = [hangingPoll(alice), hangingPoll(alice)];
    try {
      await untilOpen(gw.url, 2);
      const refused = await client(gw.url).get("/v1/streams/orders/poll?from=now&wait=0", bearer(alice));
      expectError(refused, 429, "rate_limited");
      expect(refused.body.error.message).toContain("2 concurrent polls");
      expectRetryAfter(refused);
      // Polls are the limit here, not connections: an SSE response of the same credential is served.
      const sse = await SseConnection.open(sseUrl(gw.url), { headers: bearer(alice) });
      expect(sse.status).toBe(200);
      await sse.close();
      expect((await client(gw.url).get("/v1/streams/orders/poll?from=now&wait=0", bearer(bob))).status).toBe(200);

      await polls.pop()!.abort();
      await untilOpen(gw.url, 1);
      expect((await client(gw.url).get("/v1/streams/orders/poll?from=now&wait=0", bearer(alice))).status).toBe(200);
    } finally {
      await Promise.all(polls.map((p) => p.abort()));
    }
    await untilOpen(gw.url, 0);
  });

  it("connections in total: the one past the limit is 503 on HTTP and closed with 1013 on WebSocket; open ones keep delivering", async () => {
    const held: SseConnection[] = [];
    try {
      for (const key of [alice, alice, alice, bob, bob]) held.push(await SseConnection.open(sseUrl(gw.url), { headers: bearer(key) }));
      for (const c of held) expect(c.status).toBe(200);
      await untilOpen(gw.url, 5);

      const refused = await sseRefusal(await SseConnection.open(sseUrl(gw.url), { headers: bearer(carol) }));
      expectError(refused, 503, "unavailable");
      expectRetryAfter(refused);
      const poll = await client(gw.url).get("/v1/streams/metrics/poll?wait=0", bearer(carol));
      expectError(poll, 503, "unavailable");
      expectRetryAfter(poll);
      await expectWsRefused(await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: bearer(carol) }), "unavailable");

      // Everyone already connected is served: carol's publish reaches the open responses.
      expect((await publish(carol, "while-full")).status).toBe(201);
      await held[4]!.waitForEvents(1);

      await held.pop()!.close();
      await untilOpen(gw.url, 4);
      expect((await client(gw.url).get("/v1/streams/metrics/poll?wait=0", bearer(carol))).status).toBe(200);
    } finally {
      await Promise.all(held.map((c) => c.close()));
    }
    await untilOpen(gw.url, 0);
  });

  it("publishes per second per credential: past a second's worth, 429 + Retry-After on HTTP and rate_limited on WebSocket; another credential publishes", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { headers: bearer(alice) });
    try {
      // Sent together, so the bucket has no time to refill between them.
      for (const ref of ["p1", "p2", "p3"]) ws.send({ op: "publish", ref, stream: "metrics", data: { name: ref, value: 1 } });
      expect(await ws.nextOp("error", { ref: "p3" })).toMatchObject({ code: "rate_limited" });
      const refused = await publish(alice, "over");
      expectError(refused, 429, "rate_limited");
      expectRetryAfter(refused);
      expect((await publish(bob, "meanwhile")).status).toBe(201);
      for (const ref of ["p1", "p2"]) expect(await ws.nextOp("published", { ref })).toMatchObject({ duplicate: false });

      // The bucket refills within the Retry-After it named.
      await new Promise((resolve) => setTimeout(resolve, Number(refused.headers.get("retry-after")) * 1000));
      expect((await publish(alice, "again")).status).toBe(201);
    } finally {
      await ws.close();
    }
  });

  it("a batch takes one publish per event: refused whole, nothing stored, when the second has no room for it", async () => {
    const info = async () => (await client(gw.url).get("/v1/streams/metrics", bearer(carol))).body.last_offset;
    const batch = (count: number) =>
      client(gw.url).postJson("/v1/streams/metrics/events:batch", { events: Array.from({ length: count }, (_, i) => ({ data: { name: `b${i}`, value: i } })) }, bearer(carol));
    expect((await publish(carol, "one")).status).toBe(201);
    const before = await info();
    const refused = await batch(2);
    expectError(refused, 429, "rate_limited");
    expect(await info()).toBe(before);
  });

  it("with auth off, the limit is per client address: a second address is served while the first is refused", async () => {
    const held = [await SseConnection.open(sseUrl(open.url)), await SseConnection.open(sseUrl(open.url))];
    try {
      await untilOpen(open.url, 2);
      const refused = await sseRefusal(await SseConnection.open(sseUrl(open.url)));
      expectError(refused, 429, "rate_limited");
      expect(await statusFrom(open.url, "127.0.0.2", "/v1/streams/metrics/poll?wait=0")).toBe(200);
      await held.pop()!.close();
      await untilOpen(open.url, 1);
      expect((await client(open.url).get("/v1/streams/metrics/poll?wait=0")).status).toBe(200);
    } finally {
      await Promise.all(held.map((c) => c.close()));
    }
  });
});

/** The status of a GET sent from another loopback address. */
function statusFrom(base: string, localAddress: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { localAddress, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} from ${localAddress}`)));
    req.on("error", reject);
    req.end();
  });
}
