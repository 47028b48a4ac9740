/**
 * The AsyncAPI document (src/asyncapi/document.ts) of the served and the test descriptor sets:
 * valid AsyncAPI 3.0.0 by @asyncapi/parser, every declared stream and type in it, and payload
 * schemas that refuse what proto3 JSON is not (./gateway-payloads.test.ts holds them to what a
 * running gateway sends).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { asyncApiDocument } from "../../src/asyncapi/document.js";
import type { AsyncApiDocument } from "../../src/asyncapi/spec.js";
import { schemasFromDescriptorSet, type Schemas } from "../../src/schema/registry.js";
import { asyncApiProblems, DocumentValidator } from "./validator.js";

const SETS = {
  served: new URL("../../generated/descriptors.binpb", import.meta.url),
  test: new URL("../../generated/test/descriptors.binpb", import.meta.url),
};
const load = (set: URL): Schemas => schemasFromDescriptorSet(readFileSync(set));
const BASE_URL = "http://127.0.0.1:8080";

describe("valid AsyncAPI 3.0.0", () => {
  for (const [name, set] of Object.entries(SETS)) {
    for (const auth of [undefined, { queryToken: false }, { queryToken: true }]) {
      it(`the ${name} descriptor set, auth ${auth ? JSON.stringify(auth) : "off"}: no error or warning`, async () => {
        const doc = asyncApiDocument(load(set), { baseUrl: BASE_URL, ...(auth && { auth }) });
        expect(doc.asyncapi).toBe("3.0.0");
        expect(await asyncApiProblems(doc)).toEqual([]);
      });
    }
  }

  it("a stream without event types: channels to read it, nothing to publish", async () => {
    const { registry, streams } = load(SETS.test);
    const kinds = streams.get("kinds")!;
    const doc = asyncApiDocument({ registry, streams: new Map([["empty", { ...kinds, name: "empty", events: [] }]]) }, { baseUrl: BASE_URL });
    expect(await asyncApiProblems(doc)).toEqual([]);
    expect(Object.keys(doc.channels)).toEqual(["empty-sse", "empty-poll", "empty-ws", "empty-webhook"]);
  });

  it("the same validation finds mistakes in such a document", async () => {
    const doc = asyncApiDocument(load(SETS.test), { baseUrl: BASE_URL });
    const broken: [string, (d: AsyncApiDocument) => void][] = [
      ["invalid-ref", (d) => (d.components.schemas["streamgate.testing.v1.AllKinds"]!.properties!.nested = { $ref: "#/components/schemas/Missing" })],
      ["asyncapi3-operation-messages-from-referred-channel", (d) => d.operations["kinds-sseReceive"]!.messages.push({ $ref: "#/channels/kinds-poll/messages/streamgate-poll-batch" })],
      ["asyncapi-document-resolved", (d) => ((d.components.schemas["streamgate.testing.v1.Nested"] as { type: string }).type = "thing")],
    ];
    for (const [code, breakIt] of broken) {
      const copy = structuredClone(doc);
      breakIt(copy);
      expect((await asyncApiProblems(copy)).some((line) => line.startsWith(`${code} `)), code).toBe(true);
    }
  });
});

describe("what the document holds", () => {
  const schemas = load(SETS.test);
  const doc = asyncApiDocument(schemas, { baseUrl: "https://gateway.example:8443" });

  it("every stream over every protocol, every event type as a message with its data schema", () => {
    expect(schemas.streams.size).toBeGreaterThanOrEqual(3);
    for (const stream of schemas.streams.values()) {
      const addresses = Object.fromEntries(["sse", "poll", "ws", "webhook", "events", "eventsBatch"].map((kind) => [kind, doc.channels[`${stream.name}-${kind}`]?.address]));
      expect(addresses).toEqual({
        sse: `/v1/streams/${stream.name}/sse`,
        poll: `/v1/streams/${stream.name}/poll`,
        ws: "/v1/ws",
        webhook: null,
        events: `/v1/streams/${stream.name}/events`,
        eventsBatch: `/v1/streams/${stream.name}/events:batch`,
      });
      expect(doc.channels[`${stream.name}-sse`]!.description).toContain(stream.description);
      for (const event of stream.events) {
        expect(doc.components.messages[event.type]?.payload).toEqual({ $ref: `#/components/schemas/${event.type}-envelope` });
        expect(doc.components.schemas[event.type]?.type).toBe("object");
      }
    }
    const actions = Object.entries(doc.operations).map(([id, op]) => `${id}:${op.action}`);
    expect(actions).toEqual(expect.arrayContaining(["kinds-sseReceive:receive", "kinds-pollReceive:receive", "kinds-wsReceive:receive", "kinds-webhookReceive:receive", "kinds-publish:send", "kinds-wsPublish:send"]));
  });

  it("the stream's settings where they matter: retention on reads, the duplicate window on publishing", () => {
    expect(doc.channels["kinds-poll"]!.description).toContain("The stream removes events older than 1 hour");
    expect(doc.channels["orders-events"]!.description).toContain("An event id published again within 2 minutes is stored once.");
  });

  it("servers at the base URL: https and wss for an https one", () => {
    expect(doc.servers.http).toMatchObject({ host: "gateway.example:8443", protocol: "https" });
    expect(doc.servers.ws).toMatchObject({ host: "gateway.example:8443", protocol: "wss" });
    expect(doc.servers.http!.security).toBeUndefined();
    const secured = asyncApiDocument(schemas, { baseUrl: BASE_URL, auth: { queryToken: false } });
    expect(secured.servers.http!.security).toEqual([{ $ref: "#/components/securitySchemes/bearer" }, { $ref: "#/components/securitySchemes/cookie" }]);
  });

  it("descriptions come from the proto comments", () => {
    expect(doc.components.schemas["streamgate.testing.v1.AllKinds"]!.description).toBe("One field of every scalar type, and every way of holding a value.");
    expect(doc.components.messages["streamgate.testing.v1.Ping"]!.summary).toBe("A second event type on the stream, without a key field.");
  });
});

describe("payload schemas refuse what the gateway never writes", () => {
  const validator = new DocumentValidator(asyncApiDocument(load(SETS.test), { baseUrl: BASE_URL }));
  const data = (value: unknown) => validator.problems("/components/schemas/streamgate.testing.v1.AllKinds", value);

  // [field, a value proto3 JSON writes, one it never does]
  const cases: [string, unknown, unknown][] = [
    ["anInt64", "-9223372036854775808", -5],
    ["anInt64", "9223372036854775807", "0012"],
    ["aUint64", "18446744073709551615", "-1"],
    ["anInt32", -2147483648, 2147483648],
    ["aUint32", 4294967295, -1],
    ["aDouble", "NaN", "nan"],
    ["aDouble", "-Infinity", "1.5"],
    ["aFloat", 3.4028234663852886e38, true],
    ["someBytes", "AAEC/w==", "AAEC/w"],
    ["someBytes", "", "not base64!"],
    ["colour", "COLOUR_GREEN", "COLOUR_PURPLE"],
    ["colour", 77, "77"],
    ["at", "2026-11-22T10:00:00.123456789Z", "2026-11-22T10:00:00+01:00"],
    ["at", "0001-01-01T00:00:00Z", "2026-02-30T00:00:00Z"],
    ["took", "-1.500s", "1.5"],
    ["wrappedInt64", "0", 0],
    ["int64s", ["1", "-2"], [1]],
    ["counts", { a: "1" }, { a: 1 }],
    ["byNumber", { "-7": { label: "x" } }, { x: {} }],
    ["names", { "18446744073709551615": "n" }, { "-1": "n" }],
    ["flags", { true: "AA==" }, { yes: "AA==" }],
    ["nested", { children: [{ weight: "3" }] }, { children: [{ weight: 3 }] }],
    ["nesteds", [{ label: "a" }], [{ label: "a", extra: 1 }]],
  ];
  for (const [field, good, bad] of cases) {
    it(`${field}: ${JSON.stringify(good)} fits, ${JSON.stringify(bad)} does not`, () => {
      expect(data({ [field]: good })).toEqual([]);
      expect(data({ [field]: bad })).not.toEqual([]);
    });
  }

  it("a oneof holds at most one of its fields; unknown fields are refused", () => {
    expect(data({})).toEqual([]);
    expect(data({ choiceText: "a" })).toEqual([]);
    expect(data({ choiceNested: {} })).toEqual([]);
    expect(data({ choiceText: "a", choiceNumber: "1" })).not.toEqual([]);
    expect(data({ id: "x", a_double: 1 })).not.toEqual([]);
  });
});
