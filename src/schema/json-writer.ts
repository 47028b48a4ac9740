import { fromBinary, ScalarType, toJson, type DescField, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence, hasCustomJsonRepresentation, isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { enumText, mapKeyReader, mapKeyZero, scalarTextReader, scalarZeroText, type TextReader } from "./json-scalars.js";
import { stringifyJson } from "./json.js";
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
    return writerFor(desc).write(new Source(bytes, registry), bytes.byteLength, 1);
  } catch {
    return stringifyJson(binaryToJson(desc, bytes, registry));
  }
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
      const text = field.text(slot);
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
  /** undefined leaves the field out. */
  text(slot: unknown): string | undefined;
}

function fieldWriter(field: DescField, index: number, siblings: readonly number[]): FieldWriter {
  const { number } = field;
  const key = `${JSON.stringify(field.jsonName)}:`;
  const implicit = field.presence === FeatureSet_FieldPresence.IMPLICIT;
  // The last occurrence of a oneof member replaces whichever member was set before it.
  const claim = (slots: unknown[]) => {
    for (const sibling of siblings) slots[sibling] = undefined;
  };
  switch (field.fieldKind) {
    case "scalar": {
      const read = scalarTextReader(field.scalar, field.utf8Validation);
      const zero = implicit ? scalarZeroText(field.scalar) : undefined;
      return {
        number,
        key,
        read: (source, slots) => {
          claim(slots);
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
        read: (source, slots) => {
          claim(slots);
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
          claim(slots);
          slots[index] = readMessage(source, child, depth, slots[index] as MessageSlot | undefined);
        },
        text: (slot) => (slot as MessageSlot).text,
      };
    }
    case "list":
      return { number, key, read: listReader(field, index), text: (slot) => listText(slot as string[]) };
    case "map":
      return { number, key, read: mapReader(field, index), text: (slot) => mapText(slot as Record<string, string>) };
  }
}

function oneofSiblings(fields: readonly DescField[], field: DescField): number[] {
  if (!field.oneof) return [];
  return fields.flatMap((other, index) => (other !== field && other.oneof === field.oneof ? [index] : []));
}

type FieldRead = FieldWriter["read"];

function listReader(field: DescField & { fieldKind: "list" }, index: number): FieldRead {
  if (field.listKind === "message") {
    const child = writerFor(field.message);
    return (source, slots, _wireType, depth) => {
      ((slots[index] ??= []) as string[]).push(writeMessage(source, child, depth));
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

function mapReader(field: DescField & { fieldKind: "map" }, index: number): FieldRead {
  const readKey = mapKeyReader(field.mapKey, field.utf8Validation);
  const keyZero = mapKeyZero(field.mapKey);
  const value = mapValue(field);
  return (source, slots, _wireType, depth) => {
    const r = source.reader;
    // A null prototype, so that a "__proto__" key is a key like any other.
    const record = (slots[index] ??= Object.create(null)) as Record<string, string>;
    const end = r.uint32() + r.pos;
    let key: string | undefined;
    let entry: MessageSlot | string | undefined;
    while (r.pos < end) {
      const [number, wireType] = r.tag();
      if (number === 1) key = readKey(r);
      else if (number === 2) entry = value.read(source, depth, entry);
      else r.skip(wireType, number, RECURSION_LIMIT - depth);
    }
    // A later entry with the same key replaces the value, and keeps the key's place.
    record[key ?? keyZero] = entry === undefined ? value.absent(source, depth) : typeof entry === "string" ? entry : entry.text;
  };
}

interface MapValue {
  read(source: Source, depth: number, previous: MessageSlot | string | undefined): MessageSlot | string;
  /** The JSON of the value an entry without one holds: the type's zero value or empty message. */
  absent(source: Source, depth: number): string;
}

function mapValue(field: DescField & { fieldKind: "map" }): MapValue {
  switch (field.mapKind) {
    case "message": {
      const child = writerFor(field.message);
      return {
        read: (source, depth, previous) => readMessage(source, child, depth, previous as MessageSlot | undefined),
        absent: (source, depth) => child.write(source, source.reader.pos, depth + 1),
      };
    }
    case "enum": {
      const zero = enumText(field.enum)(field.enum.values[0]!.number);
      const read = enumItemReader(field.enum);
      return { read: (source) => read(source.reader), absent: () => zero };
    }
    case "scalar": {
      const zero = scalarZeroText(field.scalar);
      const read = scalarTextReader(field.scalar, field.utf8Validation);
      return { read: (source) => read(source.reader), absent: () => zero };
    }
  }
}

function mapText(record: Record<string, string>): string | undefined {
  let json = "";
  for (const key of Object.keys(record)) json += `${json === "" ? "{" : ","}${JSON.stringify(key)}:${record[key]}`;
  return json === "" ? undefined : `${json}}`;
}

function enumItemReader(desc: DescField["enum"] & object): TextReader {
  const toText = enumText(desc);
  return (r) => toText(r.int32());
}

/** A singular message field: its JSON so far, and where its occurrences lie, to merge a later one into. */
class MessageSlot {
  constructor(
    public text: string,
    readonly ranges: number[],
  ) {}
}

/** One occurrence of a singular message field; another occurrence merges into the ones before it. */
function readMessage(source: Source, child: MessageWriter, depth: number, previous: MessageSlot | undefined): MessageSlot {
  const r = source.reader;
  const end = messageEnd(r);
  if (!previous) {
    const start = r.pos;
    return new MessageSlot(child.write(source, end, depth + 1), [start, end]);
  }
  previous.ranges.push(r.pos, end);
  r.pos = end;
  // Merging parsed messages gives what parsing their encodings one after the other gives.
  const parts: Uint8Array[] = [];
  for (let i = 0; i < previous.ranges.length; i += 2) parts.push(source.bytes.subarray(previous.ranges[i], previous.ranges[i + 1]));
  const merged = Buffer.concat(parts);
  previous.text = child.write(new Source(merged, source.registry), merged.byteLength, depth + 1);
  return previous;
}

/** A length-delimited message at the reader's position, as JSON. */
function writeMessage(source: Source, child: MessageWriter, depth: number): string {
  return child.write(source, messageEnd(source.reader), depth + 1);
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
    return (slot === undefined ? undefined : value.text(slot)) ?? zero;
  };
}

/** Timestamp and Duration: read here, formatted (and range-checked) by protobuf-es's own toJson. */
function isSecondsNanos(desc: DescMessage): boolean {
  if (desc.typeName !== "google.protobuf.Timestamp" && desc.typeName !== "google.protobuf.Duration") return false;
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

function secondsNanosWriter(desc: DescMessage): WriteMessage {
  const body = messageBody(desc, [
    { number: 1, read: ({ reader }, slots) => void (slots[0] = reader.int64()) },
    { number: 2, read: ({ reader }, slots) => void (slots[1] = reader.int32()) },
  ]);
  return (source, end, depth) => {
    const [seconds = 0n, nanos = 0] = body.read(source, end, depth);
    return JSON.stringify(toJson(desc, { $typeName: desc.typeName, seconds, nanos } as Message));
  };
}
