/**
 * The JSON writer against the reflective path it replaces (fromBinary, toJson, stringifyJson):
 * for messages of every type the gateway ships, of the test schema with every field kind, and of
 * a schema made here with what those lack, the same text or the same failure, byte for byte.
 */
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, toBinary, toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { corruptedArbitrary, messageArbitrary, wireArbitrary } from "../../test/support/message-arbitraries.js";
import { EncodedEvent } from "../fanout/encoded-event.js";
import { binaryToJsonText, writeJsonText } from "./json-writer.js";
import { stringifyJson } from "./json.js";
import { loadSchemas, schemasFromDescriptorSet, type Schemas } from "./registry.js";
import { isoString } from "./utc-time.js";

const demo = await loadSchemas();
const kinds = schemasFromDescriptorSet(readFileSync(new URL("../../generated/test/descriptors.binpb", import.meta.url)));

const IMPORTS = [
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
];
const field = (name: string, number: number, type: Type, typeName = "", label = Label.OPTIONAL) => ({
  name,
  number,
  type,
  typeName,
  label,
  jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
});
const message = (typeName: string, number: number, name: string, label = Label.OPTIONAL) => field(name, number, Type.MESSAGE, typeName, label);
const entry = (name: string, key: Type, value: ReturnType<typeof field>) => ({
  name,
  options: { mapEntry: true },
  field: [field("key", 1, key), { ...value, name: "value", number: 2, jsonName: "value" }],
});

/** What the schemas above lack: the JSON-special well-known types, json_name, packed = false, maps of them. */
const extras = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "extras/v1/extras.proto",
    package: "extras.v1",
    syntax: "proto3",
    dependency: IMPORTS.map((f) => f.proto.name),
    messageType: [
      {
        name: "Extras",
        field: [
          message(".google.protobuf.Struct", 1, "a_struct"),
          message(".google.protobuf.Value", 2, "a_value"),
          message(".google.protobuf.ListValue", 3, "a_list"),
          message(".google.protobuf.FieldMask", 4, "a_mask"),
          message(".google.protobuf.Empty", 5, "an_empty"),
          message(".google.protobuf.Any", 6, "an_any"),
          message(".google.protobuf.Timestamp", 7, "times", Label.REPEATED),
          message(".extras.v1.Extras.ValuesEntry", 8, "values", Label.REPEATED),
          message(".extras.v1.Extras.TookEntry", 9, "took", Label.REPEATED),
          { ...field("renamed", 10, Type.STRING), jsonName: "spécial \"name\"" },
          { ...field("loose", 11, Type.SINT32, "", Label.REPEATED), options: { packed: false } },
          { ...field("nothing", 12, Type.ENUM, ".google.protobuf.NullValue"), oneofIndex: 0 },
          { ...message(".google.protobuf.Duration", 13, "a_duration"), oneofIndex: 0 },
          message(".extras.v1.Extras", 14, "inner"),
          message(".google.protobuf.FloatValue", 15, "wrapped_float"),
          message(".google.protobuf.DoubleValue", 16, "wrapped_doubles", Label.REPEATED),
          message(".extras.v1.Extras.WrappedEntry", 17, "wrapped", Label.REPEATED),
        ],
        nestedType: [
          entry("ValuesEntry", Type.STRING, message(".google.protobuf.Value", 2, "value")),
          entry("TookEntry", Type.SINT64, message(".google.protobuf.Duration", 2, "value")),
          entry("WrappedEntry", Type.FIXED32, message(".google.protobuf.BoolValue", 2, "value")),
        ],
        oneofDecl: [{ name: "either" }],
      },
      // A JSON name that is an array index: a JSON object would move it to the front.
      { name: "Indexed", field: [{ ...field("first", 1, Type.STRING), jsonName: "first" }, { ...field("second", 2, Type.STRING), jsonName: "7" }] },
    ],
  }),
  (name) => IMPORTS.find((f) => f.proto.name === name),
);

/** proto2: required fields, closed enums, groups, extensions. */
const legacy = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "legacy/v1/legacy.proto",
    package: "legacy.v1",
    syntax: "proto2",
    enumType: [{ name: "Closed", value: [{ name: "CLOSED_ONE", number: 1 }, { name: "CLOSED_TWO", number: 2 }] }],
    messageType: [
      {
        name: "Legacy",
        field: [
          field("needed", 1, Type.STRING, "", Label.REQUIRED),
          field("closed", 2, Type.ENUM, ".legacy.v1.Closed"),
          field("grouped", 3, Type.GROUP, ".legacy.v1.Legacy.Grouped"),
          field("plain", 4, Type.INT32),
        ],
        nestedType: [{ name: "Grouped", field: [field("inside", 1, Type.INT32)] }],
        extensionRange: [{ start: 100, end: 200 }],
      },
      { name: "Optional", field: [field("number", 1, Type.INT64), field("closed", 2, Type.ENUM, ".legacy.v1.Closed")] },
    ],
  }),
  () => undefined,
);

/** Every message type of a registry; the well-known ones are covered where fields use them. */
function typesOf(registry: Registry): DescMessage[] {
  return [...registry].filter((type): type is DescMessage => type.kind === "message" && !type.typeName.startsWith("google.protobuf."));
}

const cases: [string, DescMessage, Registry][] = [
  ...typesOf(demo.registry).filter((t) => /^demo\./.test(t.typeName)).map((t) => [t.typeName, t, demo.registry] as [string, DescMessage, Registry]),
  ...typesOf(kinds.registry).filter((t) => /^streamgate\.testing\./.test(t.typeName)).map((t) => [t.typeName, t, kinds.registry] as [string, DescMessage, Registry]),
  ...typesOf(extras).map((t) => [t.typeName, t, extras] as [string, DescMessage, Registry]),
  ...typesOf(legacy).map((t) => [t.typeName, t, legacy] as [string, DescMessage, Registry]),
];
/** By name: vitest would format descriptors and registries, cycles and all, into test names. */
const typeNames = cases.map(([name]) => name);
const typeNamed = (name: string) => cases.find(([n]) => n === name)!;

/** The text today's reflective path gives, or that it fails. */
function reference(desc: DescMessage, bytes: Uint8Array, registry: Registry): string {
  return outcome(() => stringifyJson(toJson(desc, fromBinary(desc, bytes), { registry })));
}

function outcome(write: () => string): string {
  try {
    return `ok ${write()}`;
  } catch {
    return "fails";
  }
}

describe("binaryToJsonText", () => {
  it("covers the demo, test and extra schemas' event types", () => {
    expect(typeNames).toEqual(expect.arrayContaining(["demo.orders.v1.OrderCreated", "demo.metrics.v1.MetricSample", "streamgate.testing.v1.AllKinds", "extras.v1.Extras"]));
  });

  it.each(typeNames)("%s: writes what toJson and stringifyJson write, from any encoding a producer may send", (name) => {
    const [, desc, registry] = typeNamed(name);
    fc.assert(
      fc.property(wireArbitrary(desc, registry), (bytes) => {
        expect(outcome(() => writeJsonText(desc, bytes, registry))).toBe(reference(desc, bytes, registry));
      }),
      { numRuns: 300 },
    );
  });

  it.each(typeNames)("%s: on corrupted bytes, writes the same or leaves them to the reflective path", (name) => {
    const [, desc, registry] = typeNamed(name);
    fc.assert(
      fc.property(corruptedArbitrary(wireArbitrary(desc, registry)), (bytes) => {
        const expected = reference(desc, bytes, registry);
        const written = outcome(() => writeJsonText(desc, bytes, registry));
        if (written !== "fails") expect(written).toBe(expected);
        expect(outcome(() => binaryToJsonText(desc, bytes, registry))).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("reads one type's bytes as another's as protobuf-es does (mismatched wire types, unknown fields)", () => {
    const types = cases.filter(([, , registry]) => registry === kinds.registry || registry === demo.registry);
    const pair = fc.tuple(fc.constantFrom(...types), fc.constantFrom(...types));
    fc.assert(
      fc.property(
        pair.chain(([[, from, fromRegistry], [, to, registry]]) => fc.tuple(messageArbitrary(from, fromRegistry), fc.constant({ from, to, registry }))),
        ([message, { from, to, registry }]) => {
          const bytes = toBinary(from, message);
          const written = outcome(() => writeJsonText(to, bytes, registry));
          const expected = reference(to, bytes, registry);
          if (written !== "fails") expect(written).toBe(expected);
          expect(outcome(() => binaryToJsonText(to, bytes, registry))).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("merges a message field that occurs twice, as a parser must", () => {
    const desc = kinds.registry.getMessage("streamgate.testing.v1.AllKinds")!;
    const nested = desc.fields.find((f) => f.name === "nested")!;
    const first = toBinary(desc, create(desc, { nested: { label: "first", weight: 5n, children: [{ label: "a" }] } }));
    const second = toBinary(desc, create(desc, { nested: { label: "", weight: 7n, children: [{ label: "b" }] } }));
    const text = writeJsonText(desc, Buffer.concat([first, second]), kinds.registry);
    expect(JSON.parse(text)[nested.jsonName]).toEqual({ label: "first", weight: "7", children: [{ label: "a" }, { label: "b" }] });
  });
});

describe("EncodedEvent.json", () => {
  const time = fc.date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
  const text = fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom('"quoted"', "line\nbreak", "\u2028"));

  function storedEvents(schemas: Schemas, streamName: string) {
    const stream = schemas.streams.get(streamName)!;
    const types = [...stream.events.values()].map((e) => e.message);
    const data = fc.constantFrom(...types).chain((desc) =>
      fc.tuple(fc.constant(desc.typeName), fc.oneof(wireArbitrary(desc, schemas.registry), corruptedArbitrary(wireArbitrary(desc, schemas.registry)))),
    );
    const typed = fc.oneof({ arbitrary: data, weight: 8 }, { arbitrary: fc.tuple(fc.constantFrom("", "not.a.Type"), fc.uint8Array()), weight: 1 });
    return fc.record({ typed, offset: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), id: text, key: fc.option(text, { nil: undefined }), time }).map(
      ({ typed: [type, bytes], ...rest }) => ({ stream: streamName, type, data: bytes, ...rest }),
    );
  }

  it.each(["orders", "metrics", "kinds"])("is the stringified envelope(), byte for byte (%s)", (stream) => {
    const schemas = stream === "kinds" ? kinds : demo;
    fc.assert(
      fc.property(storedEvents(schemas, stream), (stored) => {
        const event = new EncodedEvent(stored, schemas);
        expect(event.json).toBe(stringifyJson(event.envelope() as unknown as JsonValue));
      }),
      { numRuns: 400 },
    );
  });
});

describe("isoString", () => {
  it("is toISOString, for years 0000 to 9999 and outside them", () => {
    const anyTime = fc.date({ noInvalidDate: true });
    const fourDigitYears = fc.date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
    fc.assert(
      fc.property(fc.oneof(anyTime, fourDigitYears), (date) => {
        expect(isoString(date)).toBe(date.toISOString());
      }),
      { numRuns: 20_000 },
    );
    expect(() => isoString(new Date(NaN))).toThrow(RangeError);
  });
});
