/**
 * The edges of PROTOCOL.md section 4 over real HTTP and WebSocket: impossible dates, unknown
 * query parameters, wrong methods (405 with Allow), and requests too long or of the wrong media
 * type, each a 4xx in the protocol's error shape naming what was wrong, never a 500, with the
 * gateway serving everyone else afterwards.
 */
import { randomBytes } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "@streamgate/protocol/errors";
import { T, tag } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, expectError, type Client, type HttpResponse } from "../support/http.js";
import { seriesValue } from "../support/metrics.js";
import { UpgradeRefused, WsClient, wsUrl } from "../support/ws-client.js";

let gw: TestGateway;
let http: Client;
/** A paused webhook (nothing is delivered), for the routes under /v1/webhooks/{id}. */
let webhookId: string;

const HOOK_URL = "http://127.0.0.1:9/hook";

beforeAll(async () => {
  gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  http = client(gw.url);
  const created = await http.postJson("/v1/webhooks", { url: HOOK_URL, stream: "orders", paused: true });
  expect(created.status, created.text).toBe(201);
  webhookId = created.body.id;
});
afterAll(async () => gw?.close());

/** The error's message, once the answer is a 4xx in the protocol's shape with this code. */
function errorMessage(res: HttpResponse, status: number, code: string, context: string): string {
  expectError(res, status, code, context);
  return res.body.error.message as string;
}

function refusedUpgradeMessage(refused: UpgradeRefused, status: number, code: string): string {
  const where = `upgrade -> ${refused.status} ${refused.text.slice(0, 300)}`;
  expect(refused.status, where).toBe(status);
  expect(refused.body?.error?.code, where).toBe(code);
  return String(refused.body.error.message);
}

/**
 * Sends bytes over a bare TCP socket that never closes by itself, and reads until the gateway
 * closes it (or a deadline passes).
 */
function rawExchange(request: string, deadlineMs = 5_000): Promise<{ text: string; closedByGateway: boolean }> {
  const { hostname, port } = new URL(gw.url);
  const socket = tcpConnect({ host: hostname, port: Number(port) });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  socket.once("connect", () => socket.write(request));
  return new Promise((resolve) => {
    const finish = (closedByGateway: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("utf8"), closedByGateway });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.once("close", () => finish(true));
  });
}

function upgradeRequest(path: string): string {
  const { host } = new URL(gw.url);
  const key = randomBytes(16).toString("base64");
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** The status line and the JSON body of a raw HTTP answer. */
function rawAnswer(text: string): { statusLine: string; body: ErrorBody } {
  return { statusLine: text.slice(0, text.indexOf("\r\n")), body: JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as ErrorBody };
}

async function publishShipped(): Promise<number> {
  const res = await http.postJson("/v1/streams/orders/events", { type: T.shipped, data: { orderId: tag("edge"), carrier: "dhl" } });
  expect(res.status, res.text).toBe(201);
  return res.body.offset as number;
}

const IMPOSSIBLE_SINCE = ["2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2025-02-29T00:00:00Z", "2026-01-01T24:00:00Z"];

describe("an impossible date is a 400 naming it, on every read", () => {
  /** What the message must name: the parameter, and the date as it was given. */
  const expectNamed = (message: string, since: string) => {
    expect(message).toContain("since");
    expect(message).toContain(since);
  };

  it.each(IMPOSSIBLE_SINCE)("poll since=%s", async (since) => {
    const res = await http.get(`/v1/streams/orders/poll?wait=0&since=${since}`);
    expectNamed(errorMessage(res, 400, "invalid_argument", `poll since=${since}`), since);
  });

  it.each(IMPOSSIBLE_SINCE)("SSE since=%s", async (since) => {
    const res = await http.get(`/v1/streams/orders/sse?since=${since}`);
    expectNamed(errorMessage(res, 400, "invalid_argument", `sse since=${since}`), since);
  });

  it.each(IMPOSSIBLE_SINCE)("/v1/streams/orders/ws?since=%s refuses the upgrade", async (since) => {
    const refused = await WsClient.refused(wsUrl(gw.url, `/v1/streams/orders/ws?since=${since}`), "json");
    expectNamed(refusedUpgradeMessage(refused, 400, "invalid_argument"), since);
  });

  it("WebSocket subscribe: an error frame for each, and the connection goes on serving", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    try {
      for (const [i, since] of IMPOSSIBLE_SINCE.entries()) {
        ws.send({ op: "subscribe", sub: `bad${i}`, stream: "orders", since });
        const error = await ws.nextOp("error", { sub: `bad${i}` });
        expect(error.code).toBe("invalid_argument");
        expectNamed(error.message, since);
      }
      expect(ws.isOpen).toBe(true);
      const offset = await publishShipped();
      await ws.subscribe({ sub: "good", stream: "orders", from: offset });
      expect((await ws.events("good", 1)).map((e) => e.offset)).toEqual([offset]);
      await ws.ping();
    } finally {
      await ws.close();
    }
  });

  it.each(IMPOSSIBLE_SINCE)("webhook create with since=%s registers nothing", async (since) => {
    const before = await http.get("/v1/webhooks");
    const res = await http.postJson("/v1/webhooks", { url: HOOK_URL, stream: "orders", since, paused: true });
    expectNamed(errorMessage(res, 400, "invalid_argument", `create since=${since}`), since);
    const after = await http.get("/v1/webhooks");
    expect(after.body.webhooks.length).toBe(before.body.webhooks.length);
  });

  it.each(IMPOSSIBLE_SINCE)("webhook replay with since=%s", async (since) => {
    const res = await http.postJson(`/v1/webhooks/${webhookId}/replay`, { since });
    expectNamed(errorMessage(res, 400, "invalid_argument", `replay since=${since}`), since);
  });
});

describe("an unknown query parameter is a 400 naming it", () => {
  const paths = () => [
    ["poll", "/v1/streams/orders/poll?wait=0"],
    ["SSE", "/v1/streams/orders/sse?from=now"],
    ["stream info", "/v1/streams/orders?"],
    ["webhook attempts", `/v1/webhooks/${webhookId}/attempts?limit=5`],
  ];

  it("poll, SSE, stream info and webhook attempts: answered without it, refused with it", async () => {
    for (const [what, path] of paths()) {
      const plain = await http.get(path!);
      expect(plain.status, `${what}: ${plain.text}`).toBe(200);
      const res = await http.get(`${path}&frm=first`);
      expect(errorMessage(res, 400, "invalid_argument", `${what} with frm`)).toContain('"frm"');
    }
  });

  it("/v1/ws and /v1/streams/orders/ws: the gateway answers the upgrade and closes the socket itself", async () => {
    for (const path of ["/v1/ws?frm=first", "/v1/streams/orders/ws?frm=first"]) {
      const answer = await rawExchange(upgradeRequest(path));
      const { statusLine, body } = rawAnswer(answer.text);
      expect(statusLine, path).toBe("HTTP/1.1 400 Bad Request");
      expect(body.error.message, path).toContain('"frm"');
      // Else the socket is held by nothing and for ever: the gateway could not even shut down.
      expect(answer.closedByGateway, `${path}: the socket was left open`).toBe(true);
    }
  });

  it("/v1/streams/orders/ws: the upgrade is refused, and made without it", async () => {
    const refused = await WsClient.refused(wsUrl(gw.url, "/v1/streams/orders/ws?frm=first"), "json");
    expect(refusedUpgradeMessage(refused, 400, "invalid_argument")).toContain('"frm"');
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/streams/orders/ws?from=first"), "json");
    await ws.ping();
    await ws.close();
  });
});

describe("a wrong method on a known path is a 405 with Allow", () => {
  it.each([
    ["PUT", "/v1/streams/orders", ["GET", "HEAD"]],
    ["DELETE", "/v1/streams/orders/events", ["POST"]],
    ["POST", "/v1/streams/orders/poll", ["GET", "HEAD"]],
    ["GET", "/v1/webhooks/wh_x/replay", ["POST"]],
    ["PATCH", "/v1/streams", ["GET", "HEAD"]],
  ] as const)("%s %s", async (method, path, allowed) => {
    const res = await http.send({ method, path, ...(method !== "GET" && { json: {} }) });
    const message = errorMessage(res, 405, "method_not_allowed", `${method} ${path}`);
    expect(message).toContain(method);
    expect(message).toContain(path);
    expect((res.headers.get("allow") ?? "").split(/,\s*/).sort()).toEqual([...allowed]);
  });

  it.each([
    ["GET", "/v1/nothing/here"],
    ["DELETE", "/v1/streams/orders/nothing"],
    ["GET", "/v2/streams"],
  ] as const)("an unknown path stays a 404: %s %s", async (method, path) => {
    const res = await http.send({ method, path });
    expect(errorMessage(res, 404, "not_found", `${method} ${path}`)).toContain(path);
    expect(res.headers.get("allow")).toBeNull();
  });
});

describe("requests too long or of the wrong media type", () => {
  it("414: a path segment longer than the router takes", async () => {
    for (const path of [`/v1/streams/${"a".repeat(200)}`, `/v1/streams/${"a".repeat(200)}/poll?wait=0`]) {
      const res = await http.get(path);
      expect(errorMessage(res, 414, "uri_too_long", path.slice(0, 40))).toContain("path segment");
    }
  });

  it("431: a query string of about 70 KB, and the gateway serves the next request", async () => {
    const res = await http.get(`/v1/streams/orders/poll?wait=0&key=${"k".repeat(70_000)}`);
    expect(errorMessage(res, 431, "headers_too_large", "70 KB query")).toMatch(/query string|headers/);
    expect((await http.get("/v1/streams/orders")).status).toBe(200);
  });

  it("400: bytes that are not HTTP, answered before the socket is closed", async () => {
    const answer = await rawExchange("HELLO GATEWAY\r\n\r\n");
    const { statusLine, body } = rawAnswer(answer.text);
    expect(statusLine).toBe("HTTP/1.1 400 Bad Request");
    expect(body).toEqual({ error: { code: "invalid_argument", message: expect.stringContaining("not valid HTTP") } });
    expect(answer.closedByGateway).toBe(true);
  });

  it("415: events posted as application/xml, the message naming the type sent and those taken", async () => {
    const res = await http.send({ method: "POST", path: "/v1/streams/orders/events", headers: { "content-type": "application/xml" }, body: "<order/>" });
    const message = errorMessage(res, 415, "unsupported_media_type", "xml body");
    expect(message).toContain("application/xml");
    expect(message).toContain("application/json");
  });
});

describe("WebSocket paths answer a plain GET (not an upgrade) with what they are for", () => {
  const wsGauge = async () => seriesValue(await (await fetch(`${gw.url}/metrics`)).text(), 'streamgate_open_connections{protocol="ws"}');
  it.each(["/v1/ws", "/v1/streams/orders/ws?from=now"])("GET %s without Upgrade: 400 naming WebSocket, nothing left counted open", async (path) => {
    // Sockets of earlier tests may still be closing: the gauge can only have fallen since.
    const before = await wsGauge();
    for (let i = 0; i < 3; i++) {
      const message = errorMessage(await http.get(path), 400, "invalid_argument", path);
      expect(message).toContain("WebSocket upgrades only");
    }
    expect(await wsGauge()).toBeLessThanOrEqual(before);
  });
});
