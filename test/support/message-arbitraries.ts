/**
 * fast-check generators of protobuf messages of any type, from its descriptor, and of the bytes
 * a producer may send for them: made by protobuf-es's own toBinary, then with what encoders are
 * free to do (repeated fields unpacked, a field or message repeated, unknown fields) and what
 * they should not (corruption).
 */
import fc from "fast-check";
import { create, fromJson, ScalarType, toBinary, type DescField, type DescMessage, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { anyPack, isWrapperDesc } from "@bufbuild/protobuf/wkt";

/** Below this depth message fields are left empty, so recursive types stay finite. */
const MAX_DEPTH = 3;

/** Built once per type and depth: built afresh, nested types would multiply without end. */
const built = new WeakMap<Registry, Map<string, fc.Arbitrary<Message>>>();

export function messageArbitrary(desc: DescMessage, registry: Registry, depth = 0): fc.Arbitrary<Message> {
  let byType = built.get(registry);
  if (!byType) built.set(registry, (byType = new Map()));
  const key = `${desc.typeName}@${Math.min(depth, MAX_DEPTH)}`;
  let arbitrary = byType.get(key);
  if (!arbitrary) byType.set(key, (arbitrary = buildMessageArbitrary(desc, registry, depth)));
  return arbitrary;
}

function buildMessageArbitrary(desc: DescMessage, registry: Registry, depth: number): fc.Arbitrary<Message> {
  const wellKnown = wellKnownArbitrary(desc, registry, depth);
  if (wellKnown) return wellKnown;
  if (depth >= MAX_DEPTH) return fc.constant(create(desc));
  const members: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) {
    if (field.oneof) continue;
    const value = fieldValue(field, registry, depth);
    const explicit = field.fieldKind === "message" || (field.fieldKind !== "list" && field.fieldKind !== "map" && field.proto.proto3Optional);
    members[field.localName] = explicit ? fc.option(value, { nil: undefined }) : value;
  }
  for (const oneof of desc.oneofs) {
    const cases = oneof.fields.map((field) => fieldValue(field, registry, depth).map((value) => ({ case: field.localName, value })));
    members[oneof.localName] = fc.option(fc.oneof(...cases), { nil: undefined });
  }
  return fc.record(members).map((init) => create(desc, withoutUndefined(init)));
}

function withoutUndefined(init: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined));
}

function fieldValue(field: DescField, registry: Registry, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarArbitrary(field.scalar);
    case "enum":
      return enumArbitrary(field.enum);
    case "message": {
      // protobuf-es holds a singular wrapper field outside a oneof as the bare value.
      const [wrapped] = field.message.fields;
      if (!field.oneof && isWrapperDesc(field.message) && wrapped?.fieldKind === "scalar") return scalarArbitrary(wrapped.scalar);
      return localMessageArbitrary(field, registry, depth);
    }
    case "list": {
      const item =
        field.listKind === "scalar" ? scalarArbitrary(field.scalar) : field.listKind === "enum" ? enumArbitrary(field.enum) : localMessageArbitrary(field, registry, depth);
      return fc.array(item, { maxLength: 4 });
    }
    case "map": {
      const value =
        field.mapKind === "scalar" ? scalarArbitrary(field.scalar) : field.mapKind === "enum" ? enumArbitrary(field.enum) : localMessageArbitrary(field, registry, depth);
      return fc.array(fc.tuple(mapKeyArbitrary(field.mapKey), value), { maxLength: 5 }).map(ownRecord);
    }
  }
}

/** A message field's value as protobuf-es holds it: a Struct (outside a Value) as its JSON object. */
function localMessageArbitrary(field: DescField & { message: DescMessage }, registry: Registry, depth: number): fc.Arbitrary<unknown> {
  if (field.message.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value") return STRUCT_JSON;
  return messageArbitrary(field.message, registry, depth + 1);
}

const STRUCT_JSON = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }));

/** A record of entries, "__proto__" included as an own key. */
function ownRecord(entries: [string, unknown][]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  return record;
}

export function scalarArbitrary(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer();
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt(0n, 2n ** 64n - 1n);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return fc.oneof(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.constantFrom("", '"\\/', "\u0000\u001f\u007f", "\u2028\u2029", "__proto__"));
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 20 });
  }
}

function enumArbitrary(desc: DescField["enum"] & object): fc.Arbitrary<number> {
  // Open enums hold numbers the schema does not name, too.
  return fc.oneof(fc.constantFrom(...desc.values.map((v) => v.number)), fc.integer({ min: -3, max: 40 }));
}

/** Map keys as protobuf-es holds them: strings, with integer-like ones whose order JSON objects change. */
function mapKeyArbitrary(type: ScalarType): fc.Arbitrary<string> {
  if (type === ScalarType.STRING) return fc.oneof(fc.string(), fc.constantFrom("1", "10", "2", "01", "-1", "4294967294", "4294967295", "__proto__", ""));
  if (type === ScalarType.BOOL) return fc.constantFrom("true", "false");
  return scalarArbitrary(type).map(String);
}

const TIMESTAMP_SECONDS = fc.bigInt(-62_135_596_800n, 253_402_300_799n);
const NANOS = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 999 }).map((ms) => ms * 1_000_000),
  fc.integer({ min: 0, max: 999_999 }).map((us) => us * 1000),
  fc.integer({ min: 0, max: 999_999_999 }),
);
/** Now and then a value protobuf-es refuses to write as JSON, so the event goes out raw. */
const outOfRange = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 9 }, { arbitrary: odd, weight: 1 });

function wellKnownArbitrary(desc: DescMessage, registry: Registry, depth: number): fc.Arbitrary<Message> | undefined {
  const json = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((value) => fromJson(desc, value as JsonValue, { registry }));
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return fc
        .record({ seconds: outOfRange(TIMESTAMP_SECONDS, fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)), nanos: outOfRange(NANOS, fc.integer()) })
        .map((init) => create(desc, init));
    case "google.protobuf.Duration":
      return fc
        .record({ seconds: outOfRange(fc.bigInt(-315_576_000_000n, 315_576_000_000n), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)), nanos: NANOS, negative: fc.boolean() })
        .map(({ seconds, nanos, negative }) => create(desc, { seconds, nanos: (seconds > 0n || (seconds === 0n && !negative) ? 1 : -1) * nanos }));
    case "google.protobuf.Struct":
      return json(STRUCT_JSON);
    case "google.protobuf.Value":
      return json(fc.jsonValue({ maxDepth: 2 }));
    case "google.protobuf.ListValue":
      return json(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }));
    case "google.protobuf.FieldMask":
      return fc
        .array(outOfRange(fc.stringMatching(/^[a-z]+(_[a-z0-9]+)*$/), fc.constantFrom("fooBar", "foo__bar")), { maxLength: 3 })
        .map((paths) => create(desc, { paths }));
    case "google.protobuf.Any":
      return anyArbitrary(desc, registry, depth);
    default:
      return undefined;
  }
}

function anyArbitrary(desc: DescMessage, registry: Registry, depth: number): fc.Arbitrary<Message> {
  const packable = [...registry].filter((type): type is DescMessage => type.kind === "message" && !type.typeName.startsWith("google.protobuf.Any"));
  const packed = fc
    .constantFrom(...packable)
    .chain((type) => messageArbitrary(type, registry, depth + 1).map((message) => anyPack(type, message)));
  const unregistered = fc.uint8Array({ maxLength: 8 }).map((value) => create(desc, { typeUrl: "type.googleapis.com/not.Registered", value }));
  return fc.oneof({ arbitrary: packed, weight: 8 }, { arbitrary: unregistered, weight: 1 }, { arbitrary: fc.constant(create(desc)), weight: 1 });
}

/**
 * The bytes of a message as a producer may send them: toBinary's encoding, then maybe a second
 * message's repeated fields unpacked and the whole second message after it (a parser merges
 * them: the last singular value wins, messages merge, lists append, map keys are replaced),
 * with unknown fields between the parts.
 */
export function wireArbitrary(desc: DescMessage, registry: Registry): fc.Arbitrary<Uint8Array> {
  const message = messageArbitrary(desc, registry);
  const unknown = fc.array(unknownFieldArbitrary(desc), { maxLength: 2 });
  return fc
    .record({ first: message, second: fc.option(message, { nil: undefined }), unpacked: fc.boolean(), unknowns: fc.array(unknown, { minLength: 3, maxLength: 3 }) })
    .map(({ first, second, unpacked, unknowns }) => {
      const parts = [...unknowns[0]!, toBinary(desc, first), ...unknowns[1]!];
      if (second && unpacked) parts.push(unpackedLists(desc, second));
      if (second) parts.push(toBinary(desc, second));
      return Buffer.concat([...parts, ...unknowns[2]!]);
    });
}

/** The message's repeated scalar and enum fields, one record per item instead of packed. */
function unpackedLists(desc: DescMessage, message: Message): Uint8Array {
  const writer = new BinaryWriter();
  const fields = message as unknown as Record<string, unknown[]>;
  for (const field of desc.fields) {
    if (field.fieldKind !== "list" || field.listKind === "message") continue;
    const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
    for (const item of fields[field.localName]!) writeScalar(writer.tag(field.number, wireTypeOf(scalar)), scalar, item);
  }
  return writer.finish();
}

function wireTypeOf(type: ScalarType): WireType {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    default:
      return WireType.Varint;
  }
}

function writeScalar(writer: BinaryWriter, type: ScalarType, value: unknown): void {
  const method = ScalarType[type].toLowerCase() as "int32";
  (writer[method] as (v: unknown) => BinaryWriter)(value);
}

/** A field the type does not declare, of any wire type, groups included. */
function unknownFieldArbitrary(desc: DescMessage): fc.Arbitrary<Uint8Array> {
  const number = fc.integer({ min: 1, max: 2 ** 29 - 1 }).filter((n) => !desc.fields.some((f) => f.number === n) && (n < 19_000 || n > 19_999));
  const write = fc.oneof(
    fc.bigInt(0n, 2n ** 64n - 1n).map((v) => (w: BinaryWriter, n: number) => w.tag(n, WireType.Varint).uint64(v)),
    fc.bigInt(0n, 2n ** 64n - 1n).map((v) => (w: BinaryWriter, n: number) => w.tag(n, WireType.Bit64).fixed64(v)),
    fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((v) => (w: BinaryWriter, n: number) => w.tag(n, WireType.Bit32).fixed32(v)),
    fc.uint8Array({ maxLength: 12 }).map((v) => (w: BinaryWriter, n: number) => w.tag(n, WireType.LengthDelimited).bytes(v)),
    fc.integer().map((v) => (w: BinaryWriter, n: number) => w.tag(n, WireType.StartGroup).tag(1, WireType.Varint).int32(v).tag(n, WireType.EndGroup)),
  );
  return fc.tuple(number, write).map(([n, w]) => w(new BinaryWriter(), n).finish());
}

/** Bytes gone wrong: a byte changed, inserted or dropped, or the end cut off. */
export function corruptedArbitrary(bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(bytes, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "drop", "cut")).map(([valid, at, byte, how]) => {
    const i = valid.length === 0 ? 0 : at % valid.length;
    const copy = Array.from(valid);
    if (how === "set") copy[i] = byte;
    else if (how === "insert") copy.splice(i, 0, byte);
    else if (how === "drop") copy.splice(i, 1);
    else copy.length = i;
    return Uint8Array.from(copy);
  });
}
