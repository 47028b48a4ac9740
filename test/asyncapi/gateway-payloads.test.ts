/**
 * The AsyncAPI document against a running gateway on the test descriptor set: every event type
 * (FULL_CYCLE generated messages each, so every field walks its catalog of edge values: int64
 * extremes, NaN and infinities, empty bytes, every oneof case, maps over every key kind) and
 * undecodable events are published, and what the gateway then sends over long poll, SSE,
 * WebSocket and webhooks (both formats) must fit the document's messages exactly: each event the
 * message of its own type and no other. What a client sends (publish bodies, frames) is checked
 * against the document before it is sent. GET /v1/asyncapi.json is the document itself.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { toJson } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asyncApiDocument } from "../../src/asyncapi/document.js";
import type { AsyncApiDocument } from "../../src/asyncapi/spec.js";
import { storeEvent } from "../../src/backbone/publish.js";
import type { StreamDefinition } from "../../src/schema/definitions.js";
import { loadSchemas, schemasFromDescriptorSet, type Schemas } from "../../src/schema/registry.js";
import { Coverage, FULL_CYCLE, generateMessages } from "../contract/generate.js";
import { signToken, startAuthGateway } from "../support/auth-gateway.js";
import type { Envelope } from "../support/envelope.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, type HttpResponse } from "../support/http.js";
import { SseConnection } from "../support/sse-frames.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { Hooks } from "../support/webhooks.js";
import { WsClient, wsUrl } from "../support/ws-client.js";
import { DocumentValidator } from "./validator.js";

const DESCRIPTOR_SET = fileURLToPath(new URL("../../generated/test/descriptors.binpb", import.meta.url));
const SEED = 20_261_122;
const UNDECODED = "streamgate-undecoded-event";
/** A read of every stream's events from the first, naming an epoch the stream never had: a gap notice first. */
const STALE_EPOCH = "not-this-stream";
const DELIVERY_DEADLINE_MS = 40_000;

let gw: TestGateway;
let schemas: Schemas;
let doc: AsyncApiDocument;
let validator: DocumentValidator;
let receiver: Receiver;
let hooks: Hooks;
const coverage = new Coverage();
/** How many events each stream holds once beforeAll is done. */
const stored = new Map<string, number>();

beforeAll(async () => {
  gw = await startTestGateway({ STREAMGATE_DESCRIPTOR_SET: DESCRIPTOR_SET, STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  schemas = schemasFromDescriptorSet(readFileSync(DESCRIPTOR_SET));
  doc = asyncApiDocument(schemas, { baseUrl: gw.url });
  validator = new DocumentValidator(doc);
  receiver = await startReceiver();
  hooks = new Hooks(gw.api);
  for (const stream of schemas.streams.values()) {
    stored.set(stream.name, (await publishGenerated(stream)) + (await storeUndecodable(stream)));
  }
});
afterAll(async () => {
  await hooks?.cleanup();
  await receiver?.close();
  await gw?.close();
});

/** Each type's first message alone, the rest in one batch; requests and answers checked against the document. */
async function publishGenerated(stream: StreamDefinition): Promise<number> {
  const batch: unknown[] = [];
  for (const event of stream.events) {
    const messages = generateMessages(event.message, { seed: SEED, count: FULL_CYCLE, keyField: event.keyField, registry: schemas.registry, coverage });
    const [first, ...rest] = messages.map((message) => ({ type: event.type, data: toJson(event.message, message) }));
    expect(validator.payloadProblems(`${stream.name}-events`, event.type, first)).toEqual([]);
    const res = await gw.api.postJson(`/v1/streams/${stream.name}/events`, first);
    expectAnswer(res, 201, `${stream.name}-events`, "streamgate-publish-result");
    batch.push(...rest);
  }
  const body = { events: batch };
  expect(validator.payloadProblems(`${stream.name}-eventsBatch`, "streamgate-publish-batch", body)).toEqual([]);
  expectAnswer(await gw.api.postJson(`/v1/streams/${stream.name}/events:batch`, body), 201, `${stream.name}-eventsBatch`, "streamgate-publish-batch-results");
  return stream.events.length + batch.length;
}

/** Bytes that do not decode as a declared type, and a type the gateway does not know. */
async function storeUndecodable(stream: StreamDefinition): Promise<number> {
  const { js } = gw.gateway.session.backbone;
  const truncated = Uint8Array.from([0x0a, 0x05, 0x61]);
  if (stream.events[0]) await storeEvent(js, { stream: stream.name, type: stream.events[0].type, key: "k", id: `${stream.name}-bad-bytes`, data: truncated });
  await storeEvent(js, { stream: stream.name, type: "elsewhere.v1.Unknown", key: undefined, id: `${stream.name}-unknown-type`, data: Uint8Array.from([8, 1]) });
  return stream.events[0] ? 2 : 1;
}

function expectAnswer(res: HttpResponse, status: number, channel: string, message: string): void {
  expect(res.status, res.text).toBe(status);
  expect(validator.payloadProblems(channel, message, res.body), res.text.slice(0, 500)).toEqual([]);
}

/** The message an envelope must match, alone among its channel's: its type's, or the undecodable one. */
const expectedMessage = (envelope: Envelope, suffix = "") => (envelope.data === null ? UNDECODED : `${envelope.type}${suffix}`);

function commonest(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function leaves(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => leaves(v, out));
  else if (value !== null && typeof value === "object") Object.values(value).forEach((v) => leaves(v, out));
  else out.push(value);
  return out;
}

describe("what the gateway sends fits the document", () => {
  it("the generated messages walked every catalog: every edge value was published", () => {
    expect(coverage.problems()).toEqual([]);
    expect(coverage.fields.size).toBeGreaterThan(40);
  });

  it("long poll: every batch fits the poll message, each event's data its type's schema", async () => {
    for (const stream of schemas.streams.values()) {
      const res = await gw.api.get(`/v1/streams/${stream.name}/poll?from=first&epoch=${STALE_EPOCH}&max=1000&wait=0`);
      expectAnswer(res, 200, `${stream.name}-poll`, "streamgate-poll-batch");
      const events = res.body.events as Envelope[];
      expect(events).toHaveLength(stored.get(stream.name)!);
      expect(res.body.gap, "the stale epoch's gap notice").toBeDefined();
      for (const envelope of events) {
        const pointer = envelope.data === null ? `/components/schemas/${UNDECODED}` : `/components/schemas/${envelope.type}-envelope`;
        expect(validator.problems(pointer, envelope), `${stream.name} #${envelope.offset}`).toEqual([]);
      }
      if (stream.name !== "kinds") continue;
      const values = leaves(events.map((e) => e.data));
      for (const edge of ["NaN", "Infinity", "-Infinity", "9223372036854775807", "-9223372036854775808", "18446744073709551615", "0001-01-01T00:00:00Z"]) {
        expect(values, `an edge value the schemas were held to: ${edge}`).toContain(edge);
      }
    }
  });

  it("SSE: each event matches its own type's message and no other; the gap is the gap notice", async () => {
    for (const stream of schemas.streams.values()) {
      const sse = await SseConnection.open(`${gw.url}/v1/streams/${stream.name}/sse?from=first&epoch=${STALE_EPOCH}`);
      try {
        const envelopes = await sse.waitForEvents(stored.get(stream.name)!, DELIVERY_DEADLINE_MS);
        const gaps = sse.messages().filter((m) => m.event === "gap");
        expect(gaps).toHaveLength(1);
        expect(validator.payloadProblems(`${stream.name}-sse`, "streamgate-gap-notice", JSON.parse(gaps[0]!.data!))).toEqual([]);
        for (const envelope of envelopes) expect(validator.matchingMessages(`${stream.name}-sse`, envelope), `#${envelope.offset}`).toEqual([expectedMessage(envelope)]);
      } finally {
        await sse.close();
      }
    }
  });

  it("WebSocket: frames both ways fit the channel's messages, each frame one message only", async () => {
    const ws = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    const frame = async (op: string, id: { sub?: string; ref?: string }) => JSON.parse((await ws.nextReceived((m) => m.op === op && Object.entries(id).every(([k, v]) => (m as Record<string, unknown>)[k] === v), 20_000, op)).raw as string);
    const sendChecked = (channel: string, message: string, body: Record<string, unknown>) => {
      expect(validator.payloadProblems(channel, message, body)).toEqual([]);
      ws.send(body as { op: string });
    };
    try {
      for (const stream of schemas.streams.values()) {
        const channel = `${stream.name}-ws`;
        const sub = `all-${stream.name}`;
        const expectOnly = (value: unknown, message: string) => expect(validator.matchingMessages(channel, value)).toEqual([message]);
        sendChecked(channel, "ws-subscribe", { op: "subscribe", sub, stream: stream.name, from: "first", epoch: STALE_EPOCH });
        expectOnly(await frame("subscribed", { sub }), "ws-subscribed");
        expectOnly(await frame("gap", { sub }), "ws-gap");
        for (let i = 0; i < stored.get(stream.name)!; i++) {
          const event = await frame("event", { sub });
          expectOnly(event, event.event.data === null ? "ws-undecoded-event" : `${event.event.type}-event`);
        }
        for (const event of stream.events) {
          const [message] = generateMessages(event.message, { seed: SEED + 1, count: 1, keyField: event.keyField, registry: schemas.registry });
          const ref = `pub-${event.type}`;
          sendChecked(channel, `${event.type}-publish`, { op: "publish", ref, stream: stream.name, type: event.type, data: toJson(event.message, message!) });
          expectOnly(await frame("published", { ref }), "ws-published");
          expectOnly(await frame("event", { sub }), `${event.type}-event`);
        }
        if (stream.events[0]) {
          ws.send({ op: "publish", ref: "bad", stream: stream.name, type: stream.events[0].type, data: { noSuchField: 1 } });
          expectOnly(await frame("error", { ref: "bad" }), "ws-error");
        }
        sendChecked(channel, "ws-unsubscribe", { op: "unsubscribe", sub });
        expectOnly(await frame("unsubscribed", { sub }), "ws-unsubscribed");
      }
    } finally {
      await ws.close();
    }
  });

  it("webhooks: envelope bodies match their type's message with its headers; CloudEvents bodies are their type's data", async () => {
    for (const stream of schemas.streams.values()) {
      const events = (await gw.api.get(`/v1/streams/${stream.name}/poll?from=first&max=1000&wait=0`)).body.events as Envelope[];
      // CloudEvents webhooks take the events with no key, and those of the commonest key (ce-subject).
      const unkeyed = stream.events.filter((e) => !e.keyField).map((e) => e.type);
      const key = commonest(events.map((e) => e.key).filter((k): k is string => k !== undefined));
      const webhooks = [
        { path: "envelope", filter: {}, expected: events.length },
        ...(key ? [{ path: "cloudevents-key", filter: { key }, expected: events.filter((e) => e.key === key).length }] : []),
        ...(unkeyed.length ? [{ path: "cloudevents-unkeyed", filter: { types: unkeyed }, expected: events.filter((e) => unkeyed.includes(e.type)).length }] : []),
      ];
      const at = (path: string) => receiver.requests.filter((r) => r.path === `/${stream.name}/${path}`);
      for (const { path, filter } of webhooks) {
        await hooks.create({ url: `${receiver.origin}/${stream.name}/${path}`, stream: stream.name, from: "first", format: path === "envelope" ? "envelope" : "cloudevents", ...filter });
      }
      expect(webhooks.slice(1).reduce((n, w) => n + w.expected, 0), `${stream.name}: events for the CloudEvents webhooks`).toBeGreaterThan(0);
      const progress = () => webhooks.map((w) => `${w.path} ${at(w.path).length}/${w.expected}`).join(", ");
      await receiver.until(() => webhooks.every((w) => at(w.path).length >= w.expected), `the deliveries of ${stream.name}`, DELIVERY_DEADLINE_MS, progress);
      const channel = `${stream.name}-webhook`;
      for (const request of at("envelope")) {
        const envelope = JSON.parse(request.body) as Envelope;
        expect(validator.matchingMessages(channel, envelope, request.headers), `#${request.offset}`).toEqual([expectedMessage(envelope)]);
      }
      for (const request of [...at("cloudevents-key"), ...at("cloudevents-unkeyed")]) {
        const message = `${request.headers["ce-type"]}-cloudevent`;
        expect(validator.headerProblems(channel, message, request.headers), `#${request.offset}`).toEqual([]);
        if (request.headers["content-type"] === "application/x-protobuf") continue; // undecodable: its raw bytes
        expect(validator.payloadProblems(channel, message, JSON.parse(request.body)), `#${request.offset}`).toEqual([]);
      }
    }
  });

  it("a refused publish answers with the error message", async () => {
    const kinds = schemas.streams.get("kinds")!;
    const res = await gw.api.postJson("/v1/streams/kinds/events", { type: kinds.events[0]!.type, data: { anInt64: "not a number" } });
    expectAnswer(res, 400, "kinds-events", "streamgate-error");
  });
});

describe("GET /v1/asyncapi.json", () => {
  it("is the document the module builds, its servers at the host the request came to", async () => {
    const res = await gw.api.get("/v1/asyncapi.json");
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(res.body.servers.ws).toMatchObject({ host: new URL(gw.url).host, protocol: "ws" });
  });

  it("with auth on: a credential is needed, the document holds only the streams it may read, its host is the request's", async () => {
    // Off loopback, so that any Host reaches the route (on loopback only known names do).
    const authed = await startAuthGateway([], {}, { HOST: "0.0.0.0" });
    try {
      expect((await client(authed.url).get("/v1/asyncapi.json")).status).toBe(401);
      const { token } = await signToken([{ streams: ["orders"], actions: ["subscribe"] }]);
      const res = await getWithHost(`${authed.url}/v1/asyncapi.json`, "events.example.test:8443", token);
      expect(res.status, res.body).toBe(200);
      const served = await loadSchemas();
      const orders = { registry: served.registry, streams: new Map([["orders", served.streams.get("orders")!]]) };
      const expected = asyncApiDocument(orders, { baseUrl: "http://events.example.test:8443", auth: { queryToken: false } });
      expect(JSON.parse(res.body)).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(Object.keys(expected.channels).every((id) => id.startsWith("orders-"))).toBe(true);
      expect(expected.components.securitySchemes?.bearer).toMatchObject({ type: "http", scheme: "bearer" });
      const bad = await getWithHost(`${authed.url}/v1/asyncapi.json`, "not a host", token);
      expect(bad.status, bad.body).toBe(400);
      expect(JSON.parse(bad.body)).toMatchObject({ error: { code: "invalid_argument", message: expect.stringContaining("the Host header") } });
    } finally {
      await authed.close();
    }
  });
});

/** fetch may not set Host; node:http can. */
function getWithHost(url: string, host: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host, authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
