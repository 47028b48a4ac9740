/**
 * The webhook registration API (PROTOCOL.md sections 4 and 6): shapes, defaults, secrets,
 * PATCH/DELETE, and every bad request answered 400/404 in the protocol's error shape, never 500.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RFC3339_UTC, T } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, detailPaths, expectError, type Client, type HttpRequest, type HttpResponse } from "../support/http.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { expectSecret, Hooks, publishShipped, streamInfo } from "../support/webhooks.js";

let gw: TestGateway;
let api: Client;
let hooks: Hooks;
let receiver: Receiver;
let other: Receiver;
/** Every answer of this file, to check at the end that none was a 500. */
const answers: { req: string; status: number; text: string }[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  const base = client(gw.url);
  const record = async (what: string, res: Promise<HttpResponse>) => {
    const r = await res;
    answers.push({ req: what, status: r.status, text: r.text.slice(0, 300) });
    return r;
  };
  api = {
    send: (req: HttpRequest, timeoutMs?: number) => record(`${req.method ?? ""} ${req.path}`, base.send(req, timeoutMs)),
    get: (path: string, headers?: Record<string, string>) => record(`GET ${path}`, base.get(path, headers)),
    postJson: (path: string, json: unknown, headers?: Record<string, string>) =>
      record(`POST ${path} ${JSON.stringify(json)?.slice(0, 200)}`, base.postJson(path, json, headers)),
  };
  hooks = new Hooks(api);
  receiver = await startReceiver();
  other = await startReceiver();
});
afterEach(async () => hooks.cleanup());
afterAll(async () => {
  await receiver?.close();
  await other?.close();
  await gw?.close();
});

const minimal = () => ({ url: receiver.url, stream: "orders" });
const b64 = (bytes: number) => randomBytes(bytes).toString("base64");

describe("create, read, list", () => {
  it("creates a webhook: 201 with id, a whsec_ secret and the defaults", async () => {
    const info = await streamInfo(api);
    const res = await api.postJson("/v1/webhooks", minimal());
    expect(res.status, res.text).toBe(201);
    hooks.ids.push(res.body.id);
    const hook = res.body;
    expect(hook.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expectSecret(hook.secret);
    expect(hook).toMatchObject({
      url: receiver.url,
      stream: "orders",
      format: "envelope",
      maxInFlight: 1,
      timeoutMs: 10_000,
      status: "active",
      headers: [],
      position: info.last_offset + 1,
      counts: { delivered: 0, failedAttempts: 0, deadLetters: 0, duplicates: 0 },
    });
    expect(hook.types).toBeUndefined();
    expect(hook.key).toBeUndefined();
    expect(hook.lastError).toBeUndefined();
    expect(hook.createdAt).toMatch(RFC3339_UTC);
    expect(hook.updatedAt).toMatch(RFC3339_UTC);
    expect(hook.retrySchedule).toHaveLength(9);
    expect(hook).not.toHaveProperty("secrets");

    // Every secret is fresh.
    const again = await hooks.create(minimal());
    expectSecret(again.secret);
    expect(again.secret).not.toBe(hook.secret);
    expect(again.id).not.toBe(hook.id);
  });

  it("creates with every field given", async () => {
    const secret = "whsec_" + b64(32);
    const body = {
      url: receiver.url,
      stream: "orders",
      types: [T.shipped, T.cancelled],
      key: "ord-1",
      from: "first",
      secret,
      description: "all the fields",
      headers: { "X-Tenant": "acme" },
      format: "cloudevents",
      maxInFlight: 3,
      retrySchedule: ["500ms", "2s", "1m"],
      timeoutMs: 2_500,
      paused: true,
    };
    const hook = await hooks.create(body);
    expect(hook.secret).toBe(secret);
    expect(hook).toMatchObject({
      url: receiver.url,
      stream: "orders",
      types: [T.shipped, T.cancelled],
      key: "ord-1",
      description: "all the fields",
      headers: ["X-Tenant"],
      format: "cloudevents",
      maxInFlight: 3,
      timeoutMs: 2_500,
      status: "paused",
      position: (await streamInfo(api)).first_offset,
    });
    expect(hook.retrySchedule).toHaveLength(3);
  });

  it.each([
    ["24 bytes", 24],
    ["64 bytes", 64],
    ["33 bytes (padded)", 33],
  ])("accepts a given secret of %s", async (_name, bytes) => {
    const secret = "whsec_" + b64(bytes);
    const hook = await hooks.create({ ...minimal(), secret, paused: true });
    expect(hook.secret).toBe(secret);
  });

  it.each([
    ["too short (23 bytes)", "whsec_" + b64(23)],
    ["too long (65 bytes)", "whsec_" + b64(65)],
    ["no prefix", b64(32)],
    ["other prefix", "wh_" + b64(32)],
    ["not base64", "whsec_" + "!".repeat(40)],
    ["empty", ""],
    ["just the prefix", "whsec_"],
    ["a number", 12345],
  ])("refuses a given secret that is %s with 400", async (_name, secret) => {
    const res = await api.postJson("/v1/webhooks", { ...minimal(), secret });
    expectError(res, 400, "invalid_argument");
    expect(detailPaths(res)).toContain("secret");
  });

  it("never shows the secret again: GET, list, PATCH and replay answers hold no secret", async () => {
    const hook = await hooks.create({ ...minimal(), paused: true });
    const seen: HttpResponse[] = [
      await api.get(`/v1/webhooks/${hook.id}`),
      await api.get("/v1/webhooks"),
      await api.send({ method: "PATCH", path: `/v1/webhooks/${hook.id}`, json: { description: "x" } }),
      await api.postJson(`/v1/webhooks/${hook.id}/replay`, { from: "now" }),
      await api.get(`/v1/webhooks/${hook.id}/attempts`),
      await api.get(`/v1/webhooks/${hook.id}/dead-letters`),
    ];
    for (const res of seen) {
      expect(res.status, res.text).toBe(200);
      expect(res.text).not.toContain(hook.secret);
      expect(res.text).not.toContain(hook.secret.slice(6));
      expect(res.text).not.toMatch(/whsec_/);
      expect(res.text).not.toMatch(/"secrets?"/);
    }
    // rotate-secret shows the new secret, and only it.
    const rotated = await api.postJson(`/v1/webhooks/${hook.id}/rotate-secret`, {});
    expect(rotated.status, rotated.text).toBe(200);
    expectSecret(rotated.body.secret);
    expect(rotated.text).not.toContain(hook.secret);
    expect(rotated.text.match(/whsec_/g)).toHaveLength(1);
    const after = await api.get(`/v1/webhooks/${hook.id}`);
    expect(after.text).not.toMatch(/whsec_/);
  });

  it("shows custom headers by name, never by value: create, GET, list, PATCH, replay and rotate-secret answers", async () => {
    const values = ["Bearer tok-" + randomBytes(12).toString("hex"), "tenant-" + randomBytes(12).toString("hex")];
    const created = await api.postJson("/v1/webhooks", { ...minimal(), paused: true, headers: { authorization: values[0], "x-tenant": values[1] } });
    expect(created.status, created.text).toBe(201);
    hooks.ids.push(created.body.id);
    const id = created.body.id;
    const replacement = "other-" + randomBytes(12).toString("hex");
    const answers: [string, HttpResponse, string[]][] = [
      ["create", created, ["authorization", "x-tenant"]],
      ["GET", await api.get(`/v1/webhooks/${id}`), ["authorization", "x-tenant"]],
      ["replay", await api.postJson(`/v1/webhooks/${id}/replay`, { from: "now" }), ["authorization", "x-tenant"]],
      ["rotate-secret", await api.postJson(`/v1/webhooks/${id}/rotate-secret`, {}), ["authorization", "x-tenant"]],
      ["PATCH other fields", await hooks.patch(id, { description: "still write-only" }), ["authorization", "x-tenant"]],
      // PATCH with headers replaces them all.
      ["PATCH headers", await hooks.patch(id, { headers: { "x-other": replacement } }), ["x-other"]],
      ["GET after PATCH", await api.get(`/v1/webhooks/${id}`), ["x-other"]],
    ];
    for (const [what, res, names] of answers) {
      expect(res.status, `${what}: ${res.text}`).toBeLessThan(300);
      expect(res.body.headers, what).toEqual(names);
      for (const value of [...values, replacement]) expect(res.text, what).not.toContain(value);
    }
    const list = await api.get("/v1/webhooks");
    expect(list.body.webhooks.find((w: { id: string }) => w.id === id).headers).toEqual(["x-other"]);
    for (const value of [...values, replacement]) expect(list.text).not.toContain(value);
  });

  it("lists webhooks, oldest first, and shows each by id", async () => {
    const a = await hooks.create({ ...minimal(), description: "a", paused: true });
    const b = await hooks.create({ ...minimal(), description: "b", paused: true });
    const res = await api.get("/v1/webhooks");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["webhooks"]);
    const ids = res.body.webhooks.map((w: { id: string }) => w.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));
    const one = await api.get(`/v1/webhooks/${b.id}`);
    expect(one.status).toBe(200);
    const { secret: _secret, ...shown } = b;
    expect(one.body).toMatchObject({ ...shown, updatedAt: expect.any(String) });
    expect(res.body.webhooks.find((w: { id: string }) => w.id === b.id)).toEqual(one.body);
  });
});

describe("PATCH and DELETE", () => {
  it("changes url, filters, headers, description, retry settings and paused; GET shows the change", async () => {
    const hook = await hooks.create({ ...minimal(), headers: { "x-a": "1" }, paused: true });
    const changes: Record<string, unknown>[] = [
      { url: other.url },
      { types: [T.created] },
      { key: "ord-9" },
      { headers: { "x-b": "2" } },
      { description: "patched" },
      { retrySchedule: ["1s", "10s"] },
      { timeoutMs: 1_234 },
      { maxInFlight: 4 },
      { format: "cloudevents" },
      { paused: false },
      { paused: true },
    ];
    for (const change of changes) {
      const res = await hooks.patch(hook.id, change);
      expect(res.status, `${JSON.stringify(change)} -> ${res.text}`).toBe(200);
      const shown = await hooks.get(hook.id);
      for (const [field, value] of Object.entries(change)) {
        if (field === "paused") expect(shown.status).toBe(value ? "paused" : "active");
        else if (field === "retrySchedule") expect(shown.retrySchedule).toHaveLength((value as string[]).length);
        else if (field === "headers") expect(shown.headers).toEqual(Object.keys(value as object));
        else expect(shown[field], field).toEqual(value);
      }
      expect(res.body).toEqual(shown);
      expect(res.text).not.toMatch(/whsec_/);
    }
    const final = await hooks.get(hook.id);
    expect(final).toMatchObject({ url: other.url, types: [T.created], key: "ord-9", headers: ["x-b"], maxInFlight: 4 });
    // null clears a filter.
    const cleared = await hooks.patch(hook.id, { types: null, key: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.types).toBeUndefined();
    expect(cleared.body.key).toBeUndefined();
    expect(Date.parse(cleared.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(hook.updatedAt));
    expect(cleared.body.createdAt).toBe(hook.createdAt);
  });

  it("shows retrySchedule in the form it accepts, so a GET can be PATCHed back", async () => {
    const hook = await hooks.create({ ...minimal(), retrySchedule: ["100ms", "2s", "5m"], paused: true });
    const shown = await hooks.get(hook.id);
    const res = await hooks.patch(hook.id, { retrySchedule: shown.retrySchedule });
    expect(res.status, `GET showed ${JSON.stringify(shown.retrySchedule)}; PATCHing it back -> ${res.text}`).toBe(200);
  });

  it("deletes: 204, then 404 everywhere", async () => {
    const hook = await hooks.create({ ...minimal(), paused: true });
    const del = await api.send({ method: "DELETE", path: `/v1/webhooks/${hook.id}` });
    expect(del.status, del.text).toBe(204);
    expect(del.text).toBe("");
    await expectGone(hook.id);
    const list = await api.get("/v1/webhooks");
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).not.toContain(hook.id);
  });

  it.each(["wh_000000000000000000000000", "nope", "wh_ZZZ", "%20"])("answers 404 for the unknown id %j", async (id) => {
    await expectGone(id);
  });
});

async function expectGone(id: string): Promise<void> {
  const path = `/v1/webhooks/${id}`;
  const requests: HttpRequest[] = [
    { method: "GET", path },
    { method: "DELETE", path },
    { method: "PATCH", path, json: { description: "x" } },
    { method: "POST", path: `${path}/replay`, json: { from: "first" } },
    { method: "POST", path: `${path}/rotate-secret`, json: {} },
    { method: "GET", path: `${path}/attempts` },
    { method: "GET", path: `${path}/dead-letters` },
    { method: "POST", path: `${path}/dead-letters/redeliver`, json: {} },
  ];
  for (const req of requests) {
    const res = await api.send(req);
    expectError(res, 404, "not_found", `${req.method} ${req.path}`);
  }
}

describe("bad requests", () => {
  const invalidCreates: [string, Record<string, unknown>, string?][] = [
    ["an unknown field", { bogus: 1 }],
    ["a misspelt field", { maxInflight: 2 }],
    ["url missing", { url: undefined }, "url"],
    ["url not a string", { url: 5 }, "url"],
    ["url empty", { url: "" }, "url"],
    ["url over 2048 characters", { url: "http://127.0.0.1:9/" + "a".repeat(2100) }],
    ["url null", { url: null }],
    ["stream missing", { stream: undefined }, "stream"],
    ["stream not a string", { stream: ["orders"] }, "stream"],
    ["types not an array", { types: T.shipped }, "types"],
    ["types empty", { types: [] }, "types"],
    ["types with a number", { types: [1] }],
    ["key not a string", { key: 5 }, "key"],
    ["key empty", { key: "" }],
    ["key over 1 KiB", { key: "k".repeat(1100) }],
    ["key with a line break", { key: "a\nb" }],
    ["key with surrounding space", { key: " ord-1 " }],
    ["format unknown", { format: "xml" }, "format"],
    ["maxInFlight 0", { maxInFlight: 0 }, "maxInFlight"],
    ["maxInFlight 1.5", { maxInFlight: 1.5 }, "maxInFlight"],
    ["maxInFlight as a string", { maxInFlight: "2" }, "maxInFlight"],
    ["maxInFlight huge", { maxInFlight: 1_000_000 }, "maxInFlight"],
    ["timeoutMs as a string", { timeoutMs: "1000" }, "timeoutMs"],
    ["timeoutMs negative", { timeoutMs: -1 }, "timeoutMs"],
    ["timeoutMs 0", { timeoutMs: 0 }, "timeoutMs"],
    ["paused as a string", { paused: "yes" }, "paused"],
    ["description a number", { description: 1 }, "description"],
    ["retrySchedule a string", { retrySchedule: "5s" }, "retrySchedule"],
    ["retrySchedule with a number", { retrySchedule: [5] }],
    ["retrySchedule without unit", { retrySchedule: ["5"] }],
    ["retrySchedule with a space", { retrySchedule: ["5 s"] }],
    ["retrySchedule negative", { retrySchedule: ["-1s"] }],
    ["retrySchedule unknown unit", { retrySchedule: ["1w"] }],
    ["retrySchedule words", { retrySchedule: ["soon"] }],
    ["retrySchedule empty string", { retrySchedule: [""] }],
    ["retrySchedule of 51 steps", { retrySchedule: Array.from({ length: 51 }, () => "1s") }],
    ["description over 1 KiB", { description: "d".repeat(1025) }],
    ["33 headers", { headers: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x-h${i}`, "v"])) }],
    ["a header value over 1 KiB", { headers: { "x-a": "v".repeat(1025) } }],
    ["headers not an object", { headers: ["x-a: 1"] }, "headers"],
    ["headers value a number", { headers: { "x-a": 1 } }],
    ["header webhook-id", { headers: { "webhook-id": "x" } }],
    ["header Webhook-Signature", { headers: { "Webhook-Signature": "v1,abc" } }],
    ["header webhook-timestamp", { headers: { "webhook-timestamp": "1" } }],
    ["header streamgate-offset", { headers: { "streamgate-offset": "1" } }],
    ["header ce-id", { headers: { "ce-id": "x" } }],
    ["header content-type", { headers: { "content-type": "text/plain" } }],
    ["header content-length", { headers: { "Content-Length": "1" } }],
    ["header host", { headers: { Host: "example.test" } }],
    ["header transfer-encoding", { headers: { "transfer-encoding": "chunked" } }],
    ["header name with a space", { headers: { "x a": "1" } }],
    ["header name with a colon", { headers: { "x:a": "1" } }],
    ["header value with CRLF", { headers: { "x-a": "a\r\nx-injected: 1" } }],
    ["two positions (from and last)", { from: 1, last: 1 }],
    ["two positions (from and since)", { from: "first", since: "2026-01-01T00:00:00Z" }],
    ["from a word", { from: "later" }],
    ["from 0", { from: 0 }],
    ["from negative", { from: -3 }],
    ["from fractional", { from: 1.5 }],
    ["from as a numeric string", { from: "3" }],
    ["from beyond 2^53", { from: 2 ** 60 }],
    ["from far beyond the end", { from: 1_000_000 }],
    ["last 0", { last: 0 }],
    ["last 10001", { last: 10_001 }],
    ["last as a string", { last: "2" }],
    ["since not a time", { since: "yesterday" }],
    ["since without zone", { since: "2026-01-01T00:00:00" }],
    ["since a number", { since: 1_700_000_000 }],
    ["since an impossible date", { since: "2026-13-45T00:00:00Z" }],
    ["from null", { from: null }],
    ["epoch (not a webhook field)", { epoch: "abc" }],
    ["unknown event type", { types: ["demo.orders.v1.OrderExploded"] }],
    ["a type of another stream", { types: [T.metric] }],
  ];

  it.each(invalidCreates)("refuses a create with %s: 400 invalid_argument", async (_name, change, path) => {
    const body: Record<string, unknown> = { ...minimal(), ...change };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
    const res = await api.postJson("/v1/webhooks", body);
    if (res.status === 201) hooks.ids.push(res.body.id);
    expectError(res, 400, "invalid_argument", JSON.stringify(body));
    if (path) expect(detailPaths(res), res.text).toContain(path);
    // Unknown fields are named (zod reports them on the body itself, path "").
    if ("bogus" in change) expect(res.body.error.message).toContain("bogus");
  });

  it("answers 404 for an unknown stream", async () => {
    const res = await api.postJson("/v1/webhooks", { ...minimal(), stream: "nope" });
    expectError(res, 404, "not_found");
    expect(res.body.error.message).toContain("nope");
  });

  it.each([
    ["no body", { method: "POST", path: "/v1/webhooks" }],
    ["an empty JSON body", { method: "POST", path: "/v1/webhooks", body: "", headers: { "content-type": "application/json" } }],
    ["broken JSON", { method: "POST", path: "/v1/webhooks", body: '{"url":', headers: { "content-type": "application/json" } }],
    ["a JSON array", { method: "POST", path: "/v1/webhooks", json: [] }],
    ["JSON null", { method: "POST", path: "/v1/webhooks", body: "null", headers: { "content-type": "application/json" } }],
    ["a JSON string", { method: "POST", path: "/v1/webhooks", json: "hello" }],
  ] as [string, HttpRequest][])("refuses %s with 400", async (_name, req) => {
    const res = await api.send(req);
    expectError(res, 400, "invalid_argument", _name);
  });

  it("refuses a create sent as text/plain (415 or 400, never 500)", async () => {
    const res = await api.send({ method: "POST", path: "/v1/webhooks", body: JSON.stringify(minimal()), headers: { "content-type": "text/plain" } });
    expect([400, 415], res.text).toContain(res.status);
    expectError(res, res.status, res.status === 415 ? "unsupported_media_type" : "invalid_argument");
  });

  it("refuses bad PATCH bodies with 400 and leaves the webhook as it was", async () => {
    const hook = await hooks.create({ ...minimal(), paused: true });
    const before = await hooks.get(hook.id);
    const bad: [string, unknown][] = [
      ["an unknown field", { bogus: 1 }],
      ["stream (not changeable)", { stream: "metrics" }],
      ["secret (use rotate-secret)", { secret: "whsec_" + b64(32) }],
      ["id", { id: "wh_123" }],
      ["status", { status: "active" }],
      ["a position (use replay)", { from: 1 }],
      ["a forbidden url", { url: "http://10.0.0.1/hook" }],
      ["a non-http url", { url: "ftp://127.0.0.1/hook" }],
      ["an unknown type", { types: ["demo.orders.v1.Nope"] }],
      ["types empty", { types: [] }],
      ["a reserved header", { headers: { "webhook-id": "x" } }],
      ["a bad retrySchedule", { retrySchedule: ["5"] }],
      ["paused as a string", { paused: "false" }],
      ["timeoutMs too small", { timeoutMs: 1 }],
      ["maxInFlight 0", { maxInFlight: 0 }],
      ["a JSON array", []],
    ];
    for (const [name, body] of bad) {
      const res = await hooks.patch(hook.id, body);
      expectError(res, 400, "invalid_argument", `PATCH ${name}`);
    }
    const after = await hooks.get(hook.id);
    expect(after).toEqual(before);
  });

  it("refuses bad replay positions with 400", async () => {
    const hook = await hooks.create({ ...minimal(), paused: true });
    const info = await streamInfo(api);
    const bad: [string, unknown][] = [
      ["two positions", { from: 1, last: 1 }],
      ["an unknown field", { bogus: 1 }],
      ["from beyond the end", { from: info.last_offset + 2 }],
      ["from 0", { from: 0 }],
      ["last 0", { last: 0 }],
      ["since not a time", { since: "now" }],
      ["types (not a replay field)", { types: [T.shipped] }],
    ];
    for (const [name, body] of bad) {
      const res = await api.postJson(`/v1/webhooks/${hook.id}/replay`, body);
      expectError(res, 400, "invalid_argument", `replay ${name}`);
      if (name === "from beyond the end") expect(res.body.error.message).toContain(`last_offset ${info.last_offset}`);
    }
    // The edge that is allowed: from = last_offset + 1.
    const ok = await api.postJson(`/v1/webhooks/${hook.id}/replay`, { from: info.last_offset + 1 });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.position).toBe(info.last_offset + 1);
  });

  it("checks the attempts and dead-letters limit", async () => {
    const hook = await hooks.create({ ...minimal(), paused: true });
    for (const limit of ["0", "-1", "abc", "1001", "1.5"]) {
      expectError(await api.get(`/v1/webhooks/${hook.id}/attempts?limit=${limit}`), 400, "invalid_argument", `attempts limit=${limit}`);
      expectError(await api.get(`/v1/webhooks/${hook.id}/dead-letters?limit=${limit}`), 400, "invalid_argument", `dead-letters limit=${limit}`);
    }
    const ok = await api.get(`/v1/webhooks/${hook.id}/attempts?limit=1000`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ attempts: [] });
    expect((await api.get(`/v1/webhooks/${hook.id}/dead-letters`)).body).toEqual({ deadLetters: [] });
    expect((await api.postJson(`/v1/webhooks/${hook.id}/dead-letters/redeliver`, {})).body).toEqual({ redelivered: 0 });
  });

  it("shows the stored events' positions on create for each position kind", async () => {
    const published = await publishShipped(api, 3);
    const info = await streamInfo(api);
    const cases: [Record<string, unknown>, number][] = [
      [{ from: published[1]!.offset }, published[1]!.offset],
      [{ from: "first" }, info.first_offset],
      [{ from: "now" }, info.last_offset + 1],
      [{ last: 2 }, published[1]!.offset],
      [{ last: 10_000 }, info.first_offset],
      [{ since: "2000-01-01T00:00:00Z" }, info.first_offset],
      [{ since: new Date(Date.now() + 86_400_000).toISOString().replace("Z", "+00:00") }, info.last_offset + 1],
      [{ since: "2200-01-01T00:00:00+02:00" }, info.last_offset + 1],
      [{ from: info.last_offset + 1 }, info.last_offset + 1],
    ];
    for (const [position, expected] of cases) {
      const hook = await hooks.create({ ...minimal(), ...position, paused: true });
      expect(hook.position, JSON.stringify(position)).toBe(expected);
    }
  });

  it("starts a since= beyond year 2262 (past int64 nanoseconds) after the last event, not at the first", async () => {
    await publishShipped(api, 2);
    const info = await streamInfo(api);
    for (const since of ["2999-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]) {
      const res = await api.postJson("/v1/webhooks", { ...minimal(), since, paused: true });
      if (res.status === 201) hooks.ids.push(res.body.id);
      // Either refused as out of range, or placed after everything stored: never a replay of the whole stream.
      if (res.status !== 400) {
        expect(res.status, res.text).toBe(201);
        expect(res.body.position, `since=${since} placed the webhook at ${res.body.position}`).toBe(info.last_offset + 1);
      }
    }
  });
});

describe("never a 500", () => {
  it("answered nothing in this file with a 5xx", () => {
    const bad = answers.filter((a) => a.status >= 500);
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
    expect(answers.length).toBeGreaterThan(100);
  });
});
