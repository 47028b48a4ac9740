/**
 * Well-known types the repository's schemas do not use (Struct, Value, ListValue, FieldMask,
 * Empty, Any, NullValue, a map of messages): a message holding each, made in code. Each JSON
 * form, as @bufbuild/protobuf writes it back, must fit the document's schema; other forms not.
 */
import { create, fromBinary, fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { asyncApiDocument } from "../../src/asyncapi/document.js";
import { EncodedEvent } from "../../src/fanout/encoded-event.js";
import { prepareJsonEvent } from "../../src/publishing/event-input.js";
import type { Schemas } from "../../src/schema/registry.js";
import { field, Label, messageField, Type, WELL_KNOWN_IMPORTS, withWellKnownTypes } from "../support/descriptors.js";
import { asyncApiProblems, DocumentValidator } from "./validator.js";

const file = create(FileDescriptorProtoSchema, {
  name: "wkt/v1/wkt.proto",
  package: "wkt.v1",
  syntax: "proto3",
  dependency: WELL_KNOWN_IMPORTS,
  messageType: [
    {
      name: "Holder",
      field: [
        messageField("a_struct", 1, ".google.protobuf.Struct"),
        messageField("a_value", 2, ".google.protobuf.Value"),
        messageField("a_list", 3, ".google.protobuf.ListValue"),
        messageField("a_mask", 4, ".google.protobuf.FieldMask"),
        messageField("an_empty", 5, ".google.protobuf.Empty"),
        messageField("an_any", 6, ".google.protobuf.Any"),
        messageField("values", 7, ".google.protobuf.Value", Label.REPEATED),
        messageField("structs", 8, ".wkt.v1.Holder.StructsEntry", Label.REPEATED),
        { ...field("nothing", 9, Type.ENUM, ".google.protobuf.NullValue"), oneofIndex: 0 },
        { ...field("text", 10, Type.STRING), oneofIndex: 0 },
      ],
      nestedType: [{ name: "StructsEntry", options: { mapEntry: true }, field: [field("key", 1, Type.STRING), messageField("value", 2, ".google.protobuf.Struct")] }],
      oneofDecl: [{ name: "either" }],
    },
  ],
});
const registry = withWellKnownTypes(file);
const holder = registry.getMessage("wkt.v1.Holder")!;
const schemas: Schemas = {
  registry,
  streams: new Map([["wkt", { name: "wkt", description: "", file: file.name, settings: { maxAgeMs: 0, maxBytes: -1, maxEvents: -1, storage: "file", replicas: 1, duplicateWindowMs: 120_000 }, events: [{ type: holder.typeName, message: holder, file: file.name }] }]]),
};
const doc = asyncApiDocument(schemas, { baseUrl: "http://127.0.0.1:8080" });
const validator = new DocumentValidator(doc);
const problems = (value: unknown) => validator.problems("/components/schemas/wkt.v1.Holder", value);

// [field, a JSON form of it, one that is not]
const FORMS: [string, JsonValue, JsonValue | undefined][] = [
  ["aStruct", { a: [1, null, { b: "c" }], d: true }, [1]],
  ["aValue", null, undefined],
  ["aValue", { any: ["json", 1.5] }, undefined],
  ["aList", [1, "two", { three: 3 }], { not: "a list" }],
  ["aMask", "aField,nested.otherField", ["aField"]],
  ["anEmpty", {}, { x: 1 }],
  ["anAny", { "@type": "type.googleapis.com/google.protobuf.Duration", value: "1.500s" }, { "@type": 1 }],
  ["anAny", { "@type": "type.googleapis.com/google.protobuf.Empty" }, "not an object"],
  ["values", [null, "s", [2]], { not: "a list" }],
  ["structs", { k: { any: "json" } }, { k: "not an object" }],
  ["nothing", null, "NULL_VALUE"],
];

describe("well-known types in their JSON forms", () => {
  it("the document of such a message is valid AsyncAPI", async () => {
    expect(await asyncApiProblems(doc)).toEqual([]);
  });

  for (const [name, form, other] of FORMS) {
    it(`${name}: ${JSON.stringify(form)} as toJson writes it fits${other === undefined ? "" : `, ${JSON.stringify(other)} does not`}`, () => {
      const json = { [name]: form };
      // A set Any is written with a registry that knows what it packs.
      const written = toJson(holder, fromJson(holder, json, { registry }), { registry });
      expect(written).toEqual(json);
      expect(problems(written)).toEqual([]);
      if (other !== undefined) expect(problems({ [name]: other })).not.toEqual([]);
    });
  }

  it("the oneof holds one of its fields, a NullValue one included", () => {
    expect(problems({ text: "t" })).toEqual([]);
    expect(problems({ nothing: null, text: "both" })).not.toEqual([]);
  });
});

describe("the gateway's JSON of such a message", () => {
  it("takes a set Any in a JSON publish, resolved through the schemas' registry", () => {
    const json = { anAny: { "@type": "type.googleapis.com/google.protobuf.Duration", value: "1.500s" } };
    const event = prepareJsonEvent(schemas.streams.get("wkt")!, { type: holder.typeName, data: json }, 1024 * 1024, registry);
    expect(toJson(holder, fromBinary(holder, event.data), { registry })).toEqual(json);
  });

  it("writes a set Any as its JSON form, resolved through the schemas' registry, not as undecodable", () => {
    const json = { anAny: { "@type": "type.googleapis.com/google.protobuf.Duration", value: "1.500s" } };
    const data = toBinary(holder, fromJson(holder, json, { registry }));
    const stored = { stream: "wkt", offset: 1, id: "any-1", type: holder.typeName, key: undefined, time: new Date(0), data };
    const envelope = new EncodedEvent(stored, schemas).envelope();
    expect(envelope.data).toEqual(json);
    expect(envelope.dataBase64).toBeUndefined();
    expect(problems(envelope.data)).toEqual([]);
  });
});
