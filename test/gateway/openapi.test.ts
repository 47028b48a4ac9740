/**
 * Issue 11, item 6: GET /v1/openapi.json is an OpenAPI 3.1 document made from the routes' own
 * schemas. It is valid, it lists every route the running gateway serves (read from fastify's
 * own route tree, so a route added without a schema fails here), its query parameters are
 * exactly the ones the gateway lets through, and its shapes are those of real answers.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOG } from "@streamgate/protocol/errors";
import { EVENT_ID_PATTERN } from "@streamgate/protocol/publish";
import { READ_PARAMS } from "@streamgate/protocol/read-spec";
import { MAX_POLL_EVENTS, MAX_POLL_WAIT_S } from "@streamgate/protocol/read-spec";
import { startAuthGateway } from "../support/auth-gateway.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, type HttpResponse } from "../support/http.js";
import { openApiPath, servedRoutes } from "../support/served-routes.js";

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: unknown;
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
}
interface Media {
  schema: Schema;
}
interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
  security?: Record<string, string[]>[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
  security?: Record<string, string[]>[];
}

let gw: TestGateway;
/** The document as it came, for the validator, and as this file reads it. */
let asServed: Record<string, unknown>;
let doc: Document;

beforeAll(async () => {
  // Loopback receivers may be registered: the webhook of the shape check below is never delivered to (paused).
  gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  const res = await gw.api.get("/v1/openapi.json");
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  asServed = res.body as Record<string, unknown>;
  doc = res.body as Document;
});
afterAll(async () => gw?.close());

const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
const operation = (method: string, path: string): Operation => {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`the document has no ${method} ${path}`);
  return op;
};
const queryNames = (op: Operation) => (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
const queryParameter = (op: Operation, name: string) => op.parameters?.find((p) => p.in === "query" && p.name === name)?.schema;
const component = (ref: string | undefined): Schema => {
  const name = ref?.replace("#/components/schemas/", "");
  const schema = name === undefined ? undefined : doc.components.schemas[name];
  if (!schema) throw new Error(`no component ${ref}`);
  return schema;
};
const jsonBodyOf = (op: Operation) => op.requestBody?.content["application/json"]?.schema;

/** Every field of the answer is documented, and every field documented as required is there. */
function expectShape(body: Record<string, unknown>, schema: Schema, what: string): void {
  expect(Object.keys(body).filter((field) => !(field in (schema.properties ?? {}))), `${what}: fields the document does not name`).toEqual([]);
  expect((schema.required ?? []).filter((field) => !(field in body)), `${what}: required fields missing`).toEqual([]);
}

describe("GET /v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, every $ref resolving", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(asServed));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(doc.openapi).toBe("3.1.0");
  });

  it("lists every route the gateway serves, each described by its own schema", () => {
    const served = servedRoutes(gw.gateway.app);
    const gets = new Set(served.filter((r) => r.method === "GET").map((r) => r.path));
    // HEAD is fastify's own twin of every GET, and OPTIONS * the CORS preflight of every path.
    expect(served.filter((r) => r.method === "HEAD" && !gets.has(r.path))).toEqual([]);
    expect(served.filter((r) => r.method === "OPTIONS").map((r) => r.path)).toEqual(["*"]);
    const routes = served.filter((r) => r.method !== "HEAD" && r.method !== "OPTIONS").map((r) => `${r.method} ${openApiPath(r.path)}`);
    expect(routes.length).toBeGreaterThan(15);

    expect(operations().map(({ method, path }) => `${method} ${path}`).sort()).toEqual(routes.sort());
    for (const { method, path, op } of operations()) {
      const what = `${method} ${path}`;
      expect(op.summary, `${what} has no summary: is its schema missing?`).toBeTruthy();
      expect(op.tags?.length, what).toBe(1);
      const answers = Object.entries(op.responses).filter(([status]) => /^[12]\d\d$/.test(status));
      expect(answers.length, `${what} documents no answer`).toBeGreaterThan(0);
      expect(answers.map(([, response]) => response.description), what).not.toContain("Default Response");
    }
  });

  it("names exactly the query parameters the gateway lets through, on every route", async () => {
    const concrete = (path: string) => path.replace("{stream}", "orders").replace("{id}", "wh_000000000000000000000000");
    for (const { method, path, op } of operations()) {
      // The unknown-parameter refusal lists what the route takes: the document must say the same.
      const res = await gw.api.send({ method: method as "GET", path: `${concrete(path)}?frm=first` });
      const what = `${method} ${path}`;
      expect(res.body?.error?.code, `${what}: ${res.text}`).toBe("invalid_argument");
      const takes = /this path takes (.+)$/.exec(res.body.error.message as string)?.[1];
      expect(takes, `${what}: ${res.body.error.message}`).toBeDefined();
      expect(takes === "none" ? [] : takes!.split(", "), what).toEqual(queryNames(op));
    }
  });

  it("describes the reads' parameters: the position, the filters, and each protocol's own", () => {
    const sse = operation("GET", "/v1/streams/{stream}/sse");
    const poll = operation("GET", "/v1/streams/{stream}/poll");
    const ws = operation("GET", "/v1/streams/{stream}/ws");
    expect(READ_PARAMS).toEqual(["from", "since", "last", "epoch", "types", "key"]);
    expect(queryNames(sse)).toEqual([...READ_PARAMS, "lastEventId"]);
    expect(queryNames(poll)).toEqual([...READ_PARAMS, "max", "wait"]);
    expect(queryNames(ws)).toEqual([...READ_PARAMS]);
    expect(queryParameter(poll, "last")).toMatchObject({ type: "integer", minimum: 1, maximum: 10_000 });
    expect(queryParameter(poll, "since")).toMatchObject({ type: "string", format: "date-time" });
    expect(queryParameter(poll, "max")).toMatchObject({ type: "integer", minimum: 1, maximum: MAX_POLL_EVENTS });
    expect(queryParameter(poll, "wait")).toMatchObject({ type: "number", minimum: 0, maximum: MAX_POLL_WAIT_S });
    expect(JSON.stringify(queryParameter(poll, "from"))).toContain('"first","now"');
    expect(sse.parameters?.find((p) => p.in === "header")?.name).toBe("Last-Event-ID");
    expect(Object.keys(sse.responses["200"]!.content!)).toEqual(["text/event-stream"]);
    expect(Object.keys(poll.responses["200"]!.content!)).toEqual(["application/json", "application/x-protobuf"]);
    expect(component(poll.responses["200"]!.content!["application/json"]!.schema.$ref).required).toEqual(["events", "next", "first_offset", "last_offset"]);
    // A WebSocket is documented as the GET it is upgraded from.
    expect(Object.keys(ws.responses)).toContain("101");
    expect(ws.parameters?.find((p) => p.in === "header" && p.name === "Upgrade")).toMatchObject({ required: true, schema: { enum: ["websocket"] } });
  });

  it("describes the publish body (zod's, as JSON Schema), the protobuf alternative and the idempotency header", () => {
    const publish = operation("POST", "/v1/streams/{stream}/events");
    expect(Object.keys(publish.requestBody!.content)).toEqual(["application/json", "application/x-protobuf"]);
    const body = jsonBodyOf(publish)!;
    expect(body).toMatchObject({ type: "object", required: ["data"], additionalProperties: false });
    expect(Object.keys(body.properties!)).toEqual(["type", "data", "key", "id"]);
    expect(body.properties!.id!.pattern).toBe(EVENT_ID_PATTERN.source);
    expect(publish.parameters?.filter((p) => p.in === "header").map((p) => p.name)).toEqual(["Idempotency-Key", "Streamgate-Type", "Streamgate-Key"]);
    expect(Object.keys(publish.responses)).toEqual(expect.arrayContaining(["200", "201", "404", "413", "415", "429"]));

    const batch = jsonBodyOf(operation("POST", "/v1/streams/{stream}/events:batch"))!;
    expect(batch.properties!.events).toMatchObject({ type: "array", minItems: 1, maxItems: 1000 });
    expect(batch.properties!.events!.items).toEqual(body);
  });

  it("describes the webhook create body", () => {
    const body = jsonBodyOf(operation("POST", "/v1/webhooks"))!;
    expect(body).toMatchObject({ type: "object", required: ["url", "stream"], additionalProperties: false });
    expect(Object.keys(body.properties!)).toEqual(
      expect.arrayContaining(["url", "stream", "types", "key", "from", "since", "last", "secret", "headers", "format", "maxInFlight", "retrySchedule", "timeoutMs", "paused"]),
    );
    expect(body.properties!.format!.enum).toEqual(["envelope", "cloudevents"]);
    expect(body.properties!.secret!.pattern).toMatch(/^\^whsec_/);
    expect(body.properties!.maxInFlight).toMatchObject({ type: "integer", minimum: 1, maximum: 1000 });
  });

  it("describes the error body once, and every error answer refers to it", () => {
    const error = doc.components.schemas.Error!;
    expect(error.required).toEqual(["error"]);
    expect(error.properties!.error!.required).toEqual(["code", "message"]);
    expect(error.properties!.error!.properties!.code!.enum).toEqual(Object.keys(ERROR_CATALOG));
    const statuses = new Set(Object.values(ERROR_CATALOG).map((entry) => String(entry.status)));
    for (const { method, path, op } of operations()) {
      const errors = Object.entries(op.responses).filter(([status]) => status === "default" || /^[45]/.test(status));
      expect(errors.map(([status]) => status), `${method} ${path}`).toEqual(expect.arrayContaining(["400", "401", "403", "500", "503", "default"]));
      for (const [status, response] of errors) {
        if (status !== "default") expect(statuses, `${method} ${path} ${status}`).toContain(status);
        expect(response.content?.["application/json"]?.schema, `${method} ${path} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
      }
    }
  });

  it("has the shapes of real answers: stream info, a publish, a poll, a webhook", async () => {
    const api = gw.api;
    const info = await api.get("/v1/streams/orders");
    expectShape(info.body, component("#/components/schemas/StreamInfo"), "StreamInfo");

    const published = await api.postJson("/v1/streams/metrics/events", { data: { name: "cpu", value: 0.5 } });
    expect(published.status, published.text).toBe(201);
    expectShape(published.body, component("#/components/schemas/PublishResult"), "PublishResult");

    const polled = await api.get(`/v1/streams/metrics/poll?from=${published.body.offset}&wait=0`);
    expect(polled.status, polled.text).toBe(200);
    expectShape(polled.body, component("#/components/schemas/PollBatch"), "PollBatch");
    expectShape(polled.body.events[0], component("#/components/schemas/Envelope"), "Envelope");

    const created = await api.postJson("/v1/webhooks", { url: "http://127.0.0.1:9/never-called", stream: "orders", paused: true });
    expect(created.status, created.text).toBe(201);
    try {
      expectShape(created.body, component("#/components/schemas/CreatedWebhook"), "CreatedWebhook");
      expectShape((await api.get(`/v1/webhooks/${created.body.id}`)).body, component("#/components/schemas/Webhook"), "Webhook");
    } finally {
      const deleted = await api.send({ method: "DELETE", path: `/v1/webhooks/${created.body.id}` });
      expect(deleted.status, deleted.text).toBe(204);
    }
  });

  it("documents the credentials the gateway takes, and asks for none while auth is off", () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.jwt).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(schemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.cookie).toMatchObject({ type: "apiKey", in: "cookie", name: "streamgate_token" });
    expect(schemes.queryToken).toBeUndefined();
    expect(doc.security).toBeUndefined();
  });
});

describe("GET /v1/openapi.json with auth on", () => {
  let authGw: TestGateway;
  beforeAll(async () => {
    authGw = await startAuthGateway([], { auth: { allowQueryToken: true } });
  });
  afterAll(async () => authGw?.close());

  it("is public, and says which routes ask for a credential", async () => {
    const api = client(authGw.url);
    const res: HttpResponse = await api.get("/v1/openapi.json");
    expect(res.status, res.text).toBe(200);
    const described = res.body as Document;
    expect(described.security).toEqual([{ jwt: [] }, { apiKey: [] }, { cookie: [] }, { queryToken: [] }]);
    expect(described.components.securitySchemes.queryToken).toMatchObject({ type: "apiKey", in: "query", name: "access_token" });
    const publicRoutes = Object.entries(described.paths).filter(([, item]) => item.get?.security?.length === 0).map(([path]) => path);
    expect(publicRoutes.sort()).toEqual(["/healthz", "/metrics", "/readyz", "/v1/openapi.json"]);
    // What the document says is what the gateway does.
    for (const path of publicRoutes) expect((await api.get(path)).status, path).toBe(200);
    expect((await api.get("/v1/streams")).status).toBe(401);
  });
});
