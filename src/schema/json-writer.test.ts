/**
 * The JSON writer against the reflective path it replaces (fromBinary, toJson, stringifyJson):
 * for messages of every type the gateway ships, of the test schema with every field kind, and of
 * a schema made here with what those lack, the same text or the same failure, byte for byte.
 */
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, toBinary, toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { field, Label, messageField, Type, WELL_KNOWN_IMPORTS, withWellKnownTypes } from "../../test/support/descriptors.js";
import { corruptedArbitrary, messageArbitrary, wireArbitrary } from "../../test/support/message-arbitraries.js";
import { EncodedEvent } from "../fanout/encoded-event.js";
import { binaryToJsonText, writeJsonText } from "./json-writer.js";
import { stringifyJson } from "./json.js";
import { loadSchemas, schemasFromDescriptorSet, type Schemas } from "./registry.js";
import { isoString } from "./utc-time.js";

const demo = await loadSchemas();
const kinds = schemasFromDescriptorSet(readFileSync(new URL("../../generated/test/descriptors.binpb", import.meta.url)));

const entry = (name: string, key: Type, value: ReturnType<typeof field>) => ({
  name,
  options: { mapEntry: true },
  field: [field("key", 1, key), { ...value, name: "value", number: 2, jsonName: "value" }],
});

/** What the schemas above lack: the JSON-special well-known types, json_name, packed = false, maps of them. */
const extras = withWellKnownTypes(
  create(FileDescriptorProtoSchema, {
    name: "extras/v1/extras.proto",
    package: "extras.v1",
    syntax: "proto3",
    dependency: WELL_KNOWN_IMPORTS,
    messageType: [
      {
        name: "Extras",
        field: [
          messageField("a_struct", 1, ".google.protobuf.Struct"),
          messageField("a_value", 2, ".google.protobuf.Value"),
          messageField("a_list", 3, ".google.protobuf.ListValue"),
          messageField("a_mask", 4, ".google.protobuf.FieldMask"),
          messageField("an_empty", 5, ".google.protobuf.Empty"),
          messageField("an_any", 6, ".google.protobuf.Any"),
          messageField("times", 7, ".google.protobuf.Timestamp", Label.REPEATED),
          messageField("values", 8, ".extras.v1.Extras.ValuesEntry", Label.REPEATED),
          messageField("took", 9, ".extras.v1.Extras.TookEntry", Label.REPEATED),
          { ...field("renamed", 10, Type.STRING), jsonName: "spécial \"name\"" },
          { ...field("loose", 11, Type.SINT32, "", Label.REPEATED), options: { packed: false } },
          { ...field("nothing", 12, Type.ENUM, ".google.protobuf.NullValue"), oneofIndex: 0 },
          { ...messageField("a_duration", 13, ".google.protobuf.Duration"), oneofIndex: 0 },
          messageField("inner", 14, ".extras.v1.Extras"),
          messageField("wrapped_float", 15, ".google.protobuf.FloatValue"),
          messageField("wrapped_doubles", 16, ".google.protobuf.DoubleValue", Label.REPEATED),
          messageField("wrapped", 17, ".extras.v1.Extras.WrappedEntry", Label.REPEATED),
        ],
        nestedType: [
          entry("ValuesEntry", Type.STRING, messageField("value", 2, ".google.protobuf.Value")),
          entry("TookEntry", Type.SINT64, messageField("value", 2, ".google.protobuf.Duration")),
          entry("WrappedEntry", Type.FIXED32, messageField("value", 2, ".google.protobuf.BoolValue")),
        ],
        oneofDecl: [{ name: "either" }],
      },
      // A JSON name that is an array index: a JSON object would move it to the front.
      { name: "Indexed", field: [{ ...field("first", 1, Type.STRING), jsonName: "first" }, { ...field("second", 2, Type.STRING), jsonName: "7" }] },
    ],
  }),
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
