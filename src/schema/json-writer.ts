import { fromBinary, ScalarType, toJson, type DescField, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence, hasCustomJsonRepresentation, isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { enumText, mapKeyReader, mapKeyZero, scalarTextReader, scalarZeroText, type TextReader } from "./json-scalars.js";
import { stringifyJson } from "./json.js";
import { utcSecondText } from "./utc-time.js";
import { binaryToJson } from "./transcode.js";

/**
 * Canonical proto3 JSON text straight from protobuf bytes: the text stringifyJson(binaryToJson())
 * gives, byte for byte, without the Message object and the JsonValue tree in between, which cost
 * catch-up most of its time (every replayed event is transcoded). Each message type's writer is
 * built once, on first use, from its descriptor.
 *
 * Whatever this writer does not cover goes the reflective way (fromBinary, toJson, stringifyJson):
 * Any, Struct, Value, ListValue and FieldMask where they occur; messages with proto2 or editions
 * features (required fields, groups, closed enums, extensions) and JSON names that are array
 * indexes (which JSON objects would move to the front); and the whole event whenever its bytes do
 * not read cleanly, so that the reflective result, or its error, is the answer.
 */
export function binaryToJsonText(desc: DescMessage, bytes: Uint8Array, registry: Registry): string {
  try {
    return writeJsonText(desc, bytes, registry);
  } catch {
    return stringifyJson(binaryToJson(desc, bytes, registry));
  }
}

/** The writer alone: it throws where it cannot tell what protobuf-es would write. */
export function writeJsonText(desc: DescMessage, bytes: Uint8Array, registry: Registry): string {
  return writerFor(desc).write(new Source(bytes, registry), bytes.byteLength, 1);
}

/** fromBinary's default: messages nested deeper than this fail to decode. */
const RECURSION_LIMIT = 100;

/** The bytes being read, and what the writers of the messages in them need. */
class Source {
  readonly reader: BinaryReader;

  constructor(
    readonly bytes: Uint8Array,
    readonly registry: Registry,
  ) {
    this.reader = new BinaryReader(bytes);
  }
}

/** Reads a message body from the reader's position to `end`; `depth` counts nesting as fromBinary does. */
type WriteMessage = (source: Source, end: number, depth: number) => string;

interface MessageWriter {
  write: WriteMessage;
}

const writers = new WeakMap<DescMessage, MessageWriter>();

function writerFor(desc: DescMessage): MessageWriter {
  let writer = writers.get(desc);
  if (!writer) {
    // Registered before it is built, so recursive types find it instead of building forever.
    const placeholder: MessageWriter = { write: () => { throw new Error(`the writer of ${desc.typeName} is still being built`); } };
    writers.set(desc, placeholder);
    placeholder.write = buildWriter(desc);
    writer = placeholder;
  }
  return writer;
}

function buildWriter(desc: DescMessage): WriteMessage {
  if (isWrapperDesc(desc)) return wrapperWriter(desc);
  if (isSecondsNanos(desc)) return secondsNanosWriter(desc);
  if (hasCustomJsonRepresentation(desc) || !fieldsWritable(desc)) return reflectiveWriter(desc);
  return messageWriter(desc);
}

const ARRAY_INDEX = /^(0|[1-9][0-9]{0,9})$/;

function fieldsWritable(desc: DescMessage): boolean {
  if (desc.proto.extensionRange.length > 0) return false;
  return desc.fields.every(
    (f) =>
      f.presence !== FeatureSet_FieldPresence.LEGACY_REQUIRED &&
      !(f.fieldKind === "message" && f.delimitedEncoding) &&
      !(f.fieldKind === "list" && f.listKind === "message" && f.delimitedEncoding) &&
      !(f.fieldKind === "enum" && !f.enum.open) &&
      !(ARRAY_INDEX.test(f.jsonName) && Number(f.jsonName) < 2 ** 32 - 1),
  );
}

function messageWriter(desc: DescMessage): WriteMessage {
  const fields = desc.fields.concat().sort((a, b) => a.number - b.number);
  const body = messageBody(desc, fields.map((field, index) => fieldWriter(field, index, oneofSiblings(fields, field))));
  return (source, end, depth) => {
    const slots = body.read(source, end, depth);
    let json = "";
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (slot === undefined) continue;
      const field = body.fields[i]!;
      const text = field.text(slot, source, depth);
      if (text !== undefined) json += (json === "" ? "{" : ",") + field.key + text;
    }
    return json === "" ? "{}" : `${json}}`;
  };
}

/** What one occurrence of a field on the wire leaves in the field's slot. */
interface FieldReader {
  readonly number: number;
  read(source: Source, slots: unknown[], wireType: WireType, depth: number): void;
}

/** Reads a message body into one slot per field, skipping unknown fields as fromBinary does. */
function messageBody<F extends FieldReader>(desc: DescMessage, fields: readonly F[]) {
  const indexByNumber = new Map(fields.map((field, index) => [field.number, index]));
  return {
    fields,
    read(source: Source, end: number, depth: number): unknown[] {
      if (depth > RECURSION_LIMIT) throw new Error(`${desc.typeName} is nested too deeply`);
      const r = source.reader;
      const slots: unknown[] = new Array(fields.length);
      while (r.pos < end) {
        const [number, wireType] = r.tag();
        const index = indexByNumber.get(number);
        if (index === undefined) r.skip(wireType, number, RECURSION_LIMIT - depth);
        else fields[index]!.read(source, slots, wireType, depth);
      }
      // protobuf-es would read on into the enclosing message; such bytes are left to it.
      if (r.pos !== end) throw new RangeError(`a field overruns the end of ${desc.typeName}`);
      return slots;
    },
  };
}

/** A field of a message, read into its slot and written from it. */
interface FieldWriter extends FieldReader {
  /** `"jsonName":` */
  readonly key: string;
  /** The JSON of the field's slot, written once the message is read; undefined leaves the field out. */
  text(slot: unknown, source: Source, depth: number): string | undefined;
}

function fieldWriter(field: DescField, index: number, siblings: readonly Sibling[]): FieldWriter {
  const { number } = field;
  const key = `${JSON.stringify(field.jsonName)}:`;
  const implicit = field.presence === FeatureSet_FieldPresence.IMPLICIT;
  // The last occurrence of a oneof member replaces whichever member was set before it.
  const claim = (source: Source, slots: unknown[], depth: number) => {
    for (const sibling of siblings) {
      const slot = slots[sibling.index];
      if (slot instanceof MessageSlot) checkParses(sibling.message!, slot, source, depth);
      slots[sibling.index] = undefined;
    }
  };
  switch (field.fieldKind) {
    case "scalar": {
      const read = scalarTextReader(field.scalar, field.utf8Validation);
      const zero = implicit ? scalarZeroText(field.scalar) : undefined;
      return {
        number,
        key,
        read: (source, slots, _wireType, depth) => {
          claim(source, slots, depth);
          slots[index] = read(source.reader);
        },
        text: (slot) => (slot === zero ? undefined : (slot as string)),
      };
    }
    case "enum": {
      const toText = enumText(field.enum);
      const zero = implicit ? field.enum.values[0]!.number : undefined;
      return {
        number,
        key,
        read: (source, slots, _wireType, depth) => {
          claim(source, slots, depth);
          slots[index] = source.reader.int32();
        },
        text: (slot) => (slot === zero ? undefined : toText(slot as number)),
      };
    }
    case "message": {
      const child = writerFor(field.message);
      return {
        number,
        key,
        read: (source, slots, _wireType, depth) => {
          claim(source, slots, depth);
          slots[index] = readMessage(source, slots[index] as MessageSlot | undefined);
        },
        text: (slot, source, depth) => messageText(slot as MessageSlot, field.message, child, source, depth),
      };
    }
    case "list":
      return { number, key, read: listReader(field, index), text: (slot) => listText(slot as string[]) };
    case "map": {
      const value = mapValue(field);
      return { number, key, read: mapReader(field, index, value), text: (slot, source, depth) => mapText(slot as MapSlot, value, source, depth) };
    }
  }
}

interface Sibling {
  index: number;
  message: DescMessage | undefined;
}

function oneofSiblings(fields: readonly DescField[], field: DescField): Sibling[] {
  if (!field.oneof) return [];
  return fields.flatMap((other, index) => (other !== field && other.oneof === field.oneof ? [{ index, message: other.message }] : []));
}

type FieldRead = FieldWriter["read"];

function listReader(field: DescField & { fieldKind: "list" }, index: number): FieldRead {
  if (field.listKind === "message") {
    const child = writerFor(field.message);
    return (source, slots, _wireType, depth) => {
      ((slots[index] ??= []) as string[]).push(child.write(source, messageEnd(source.reader), depth + 1));
    };
  }
  const readItem: TextReader =
    field.listKind === "enum" ? enumItemReader(field.enum) : scalarTextReader(field.scalar, field.utf8Validation);
  const packable = field.listKind === "enum" || (field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES);
  // Packed or not, whatever the schema says: parsers accept both.
  return ({ reader: r }, slots, wireType) => {
    const items = (slots[index] ??= []) as string[];
    if (wireType === WireType.LengthDelimited && packable) {
      const end = r.uint32() + r.pos;
      while (r.pos < end) items.push(readItem(r));
    } else {
      items.push(readItem(r));
    }
  };
}

function listText(items: string[]): string | undefined {
  return items.length === 0 ? undefined : `[${items.join(",")}]`;
}

/** A map's entries by key; values are JSON text, or messages still to write. */
type MapSlot = Record<string, string | MessageSlot>;

function mapReader(field: DescField & { fieldKind: "map" }, index: number, value: MapValue): FieldRead {
  const readKey = mapKeyReader(field.mapKey, field.utf8Validation);
  const keyZero = mapKeyZero(field.mapKey);
  return (source, slots, _wireType, depth) => {
    const r = source.reader;
    // A null prototype, so that a "__proto__" key is a key like any other.
    const record = (slots[index] ??= Object.create(null)) as MapSlot;
    const end = r.uint32() + r.pos;
    let key: string | undefined;
    let entry: MessageSlot | string | undefined;
    while (r.pos < end) {
      const [number, wireType] = r.tag();
      if (number === 1) key = readKey(r);
      else if (number === 2) entry = value.read(source, entry);
      else r.skip(wireType, number, RECURSION_LIMIT - depth);
    }
    key ??= keyZero;
    const replaced = record[key];
    if (replaced instanceof MessageSlot) checkParses(field.message!, replaced, source, depth);
    // A later entry with the same key replaces the value, and keeps the key's place.
    record[key] = entry ?? value.absent;
  };
}

interface MapValue {
  read(source: Source, previous: MessageSlot | string | undefined): MessageSlot | string;
  /** What an entry without a value holds: the type's zero value, or an empty message. */
  absent: MessageSlot | string;
  text(value: MessageSlot | string, source: Source, depth: number): string;
}

function mapValue(field: DescField & { fieldKind: "map" }): MapValue {
  const asText = (value: MessageSlot | string) => value as string;
  switch (field.mapKind) {
    case "message": {
      const child = writerFor(field.message);
      return {
        read: (source, previous) => readMessage(source, previous as MessageSlot | undefined),
        absent: new MessageSlot([]),
        text: (value, source, depth) => messageText(value as MessageSlot, field.message, child, source, depth),
      };
    }
    case "enum": {
      const read = enumItemReader(field.enum);
      return { read: (source) => read(source.reader), absent: enumText(field.enum)(field.enum.values[0]!.number), text: asText };
    }
    case "scalar": {
      const read = scalarTextReader(field.scalar, field.utf8Validation);
      return { read: (source) => read(source.reader), absent: scalarZeroText(field.scalar), text: asText };
    }
  }
}

function mapText(record: MapSlot, value: MapValue, source: Source, depth: number): string | undefined {
  let json = "";
  for (const key of Object.keys(record)) json += `${json === "" ? "{" : ","}${JSON.stringify(key)}:${value.text(record[key]!, source, depth)}`;
  return json === "" ? undefined : `${json}}`;
}

function enumItemReader(desc: DescField["enum"] & object): TextReader {
  const toText = enumText(desc);
  return (r) => toText(r.int32());
}

/**
 * A singular message field (or map value): where its occurrences lie, written once all is read,
 * since a later occurrence merges into it and only the final message is written (protobuf-es
 * refuses a Timestamp out of range only if it is still out of range once merged).
 */
class MessageSlot {
  constructor(readonly ranges: number[]) {}
}

/** Passes over one occurrence of a length-delimited message, adding it to the field's others. */
function readMessage(source: Source, previous: MessageSlot | undefined): MessageSlot {
  const r = source.reader;
  const end = messageEnd(r);
  const start = r.pos;
  r.pos = end;
  if (!previous) return new MessageSlot([start, end]);
  previous.ranges.push(start, end);
  return previous;
}

function messageText(slot: MessageSlot, desc: DescMessage, child: MessageWriter, source: Source, depth: number): string {
  const { ranges } = slot;
  if (ranges.length === 2) {
    const r = source.reader;
    const resume = r.pos;
    r.pos = ranges[0]!;
    const text = child.write(source, ranges[1]!, depth + 1);
    r.pos = resume;
    return text;
  }
  // Merging parsed messages gives what parsing their encodings one after the other gives, once
  // each of them parses to its own end (protobuf-es would read an overrun on into the parent).
  checkParses(desc, slot, source, depth);
  const merged = joined(source, slot);
  return child.write(new Source(merged, source.registry), merged.byteLength, depth + 1);
}

/**
 * Each occurrence of a message that is merged, or replaced before it was written, must parse
 * as protobuf-es parses it (its values may be out of JSON's range: only the final one is written).
 */
function checkParses(desc: DescMessage, { ranges }: MessageSlot, source: Source, depth: number): void {
  for (let i = 0; i < ranges.length; i += 2) {
    fromBinary(desc, source.bytes.subarray(ranges[i], ranges[i + 1]), { recursionLimit: RECURSION_LIMIT - depth });
  }
}

function joined(source: Source, { ranges }: MessageSlot): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < ranges.length; i += 2) parts.push(source.bytes.subarray(ranges[i], ranges[i + 1]));
  return Buffer.concat(parts);
}

/** Reads the length of the message at the reader's position, and returns where it ends. */
function messageEnd(r: BinaryReader): number {
  const end = r.uint32() + r.pos;
  if (end > r.len) throw new RangeError("premature EOF");
  return end;
}

/** The message through protobuf-es, for the types this writer leaves to it. */
function reflectiveWriter(desc: DescMessage): WriteMessage {
  return (source, end, depth) => {
    const r = source.reader;
    const bytes = source.bytes.subarray(r.pos, end);
    r.pos = end;
    // A fresh parse counts depth from 1 again: the limit left is what the outer levels leave.
    const message = fromBinary(desc, bytes, { recursionLimit: RECURSION_LIMIT + 1 - depth });
    return stringifyJson(toJson(desc, message, { registry: source.registry }));
  };
}

/** A wrapper (google.protobuf.Int64Value...) is the JSON of its value, the zero value when unset. */
function wrapperWriter(desc: DescMessage): WriteMessage {
  const field = desc.fields[0]!;
  const value = fieldWriter(field, 0, []);
  const body = messageBody(desc, [value]);
  const zero = field.fieldKind === "scalar" ? scalarZeroText(field.scalar) : "";
  return (source, end, depth) => {
    const [slot] = body.read(source, end, depth);
    return (slot === undefined ? undefined : value.text(slot, source, depth)) ?? zero;
  };
}

/** Timestamp and Duration: read here, and written as protobuf-es writes them. */
function isSecondsNanos(desc: DescMessage): boolean {
  if (desc.typeName !== TIMESTAMP && desc.typeName !== "google.protobuf.Duration") return false;
  const [seconds, nanos] = desc.fields;
  return (
    desc.fields.length === 2 &&
    seconds?.fieldKind === "scalar" &&
    seconds.number === 1 &&
    seconds.scalar === ScalarType.INT64 &&
    nanos?.fieldKind === "scalar" &&
    nanos.number === 2 &&
    nanos.scalar === ScalarType.INT32
  );
}

const TIMESTAMP = "google.protobuf.Timestamp";

function secondsNanosWriter(desc: DescMessage): WriteMessage {
  const body = messageBody(desc, [
    { number: 1, read: ({ reader }, slots) => void (slots[0] = reader.int64()) },
    { number: 2, read: ({ reader }, slots) => void (slots[1] = reader.int32()) },
  ]);
  // protobuf-es's toJson writes what timestampText does not (and refuses what it must).
  const reflective = (seconds: bigint | string, nanos: number) =>
    JSON.stringify(toJson(desc, { $typeName: desc.typeName, seconds, nanos } as Message));
  const write = desc.typeName === TIMESTAMP ? (seconds: bigint | string, nanos: number) => timestampText(seconds, nanos) ?? reflective(seconds, nanos) : reflective;
  return (source, end, depth) => {
    const [seconds = 0n, nanos = 0] = body.read(source, end, depth) as [bigint | string | undefined, number | undefined];
    return write(seconds, nanos);
  };
}

/** Years 0001 to 9999, the range of a Timestamp's JSON. */
const TIMESTAMP_FIRST_MS = -62_135_596_800_000;
const TIMESTAMP_LAST_MS = 253_402_300_799_000;

/** A Timestamp's JSON: 0, 3, 6 or 9 fraction digits, as few as hold the nanoseconds; undefined outside its range. */
function timestampText(seconds: bigint | string, nanos: number): string | undefined {
  const ms = Number(seconds) * 1000;
  if (!(ms >= TIMESTAMP_FIRST_MS && ms <= TIMESTAMP_LAST_MS) || nanos < 0 || nanos > 999_999_999) return undefined;
  const second = utcSecondText(ms);
  if (nanos === 0) return `"${second}Z"`;
  const digits = String(nanos + 1_000_000_000).slice(1);
  const fraction = digits.endsWith("000000") ? digits.slice(0, 3) : digits.endsWith("000") ? digits.slice(0, 6) : digits;
  return `"${second}.${fraction}Z"`;
}
