/**
 * Deterministic random protobuf messages for any message descriptor, by reflection only: no
 * message, field or type name of any schema appears here, so a new event type needs no change.
 *
 * Every decision about a field (its value, whether it is set, how many items) walks that field's
 * catalog one entry per use, from an offset of its own, so with enough messages (FULL_CYCLE for
 * the top level; nested fields are used more often) every field sees every entry:
 *
 * - scalars: both extremes of every integer type (int64/uint64/sint64/fixed64/sfixed64 min and
 *   max, int32 min/max, uint32 max), zero, -1, 2^53+1; float and double max, -max, the smallest
 *   subnormal, -0, NaN, +-Infinity (canonical JSON writes those three as strings); strings with
 *   astral-plane characters, combining marks, right-to-left text, control characters, quotes and
 *   NUL; bytes empty, short, all 256 values; enums: every declared value, 77 and -3 (unknown);
 * - fields with presence (messages, wrappers, proto3 `optional`): unset, set to the default value
 *   (an empty message, a wrapper of 0, `optional int64 = 0`) or set to a value;
 * - repeated fields and maps: empty, one entry, several (maps over every key kind they have);
 * - oneofs: each case in turn, and none;
 * - messages nest up to MAX_DEPTH levels (recursive types stop there);
 * - well-known types with JSON forms of their own get valid values: Timestamp (0001-01-01 to
 *   9999-12-31, with nanoseconds), Duration (+-10000 years, nanoseconds), FieldMask, Struct /
 *   Value / ListValue (finite numbers only), Any (a packed Timestamp or Duration).
 *
 * A `Coverage` records what each field was given, so a test can prove the catalogs were used.
 */
import { create, ScalarType, toBinary, type DescEnum, type DescField, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { seededRandom } from "../support/random.js";

export const MAX_DEPTH = 3;
/** The tag of a message field left empty because it sits at MAX_DEPTH. */
const DEPTH_LIMITED = "depth-limited";
/**
 * How many messages per type it takes for every field to see every entry of its catalog: the
 * longest catalog has 8 entries and a field with presence gets a value every other message.
 */
export const FULL_CYCLE = 16;

export interface GenerateOptions {
  /** Seed of the whole run; each type's generator is seeded with it and its type name. */
  seed: number;
  count: number;
  /**
   * The field that becomes the event key: its strings are valid keys (well-formed, no control
   * characters, no white space at either end, at most 1 KiB), empty included (no key).
   */
  keyField?: DescField | undefined;
  /** Resolves the message types Any packs. */
  registry?: Registry;
  coverage?: Coverage;
}

/** What each field was given: field full name → tags ("max", "nan", "unset", "several", ...). */
export class Coverage {
  readonly tags = new Map<string, Set<string>>();
  /** Fields seen in a generated message, with their descriptors. */
  readonly fields = new Map<string, DescField>();
  readonly oneofCases = new Map<string, Set<string>>();

  record(field: DescField, tag: string): void {
    const name = fieldName(field);
    this.fields.set(name, field);
    let set = this.tags.get(name);
    if (!set) this.tags.set(name, (set = new Set()));
    set.add(tag);
  }

  recordOneof(message: DescMessage, oneof: string, choice: string): void {
    const name = `${message.typeName}.${oneof}`;
    let set = this.oneofCases.get(name);
    if (!set) this.oneofCases.set(name, (set = new Set()));
    set.add(choice);
  }

  /**
   * Fields whose catalog was not fully used: what each kind must have seen. Empty when the
   * generator did what the file comment promises for every field it met.
   */
  problems(): string[] {
    const out: string[] = [];
    for (const [name, field] of this.fields) {
      const seen = this.tags.get(name)!;
      // A message field met only at the depth limit never had the chance to be filled.
      if (seen.size === 1 && seen.has(DEPTH_LIMITED)) continue;
      const missing = requiredTags(field).filter((t) => !seen.has(t));
      if (missing.length > 0) out.push(`${name}: never given ${missing.join(", ")} (saw ${[...seen].sort().join(", ")})`);
    }
    for (const [name, choices] of this.oneofCases) {
      const message = [...this.fields.values()].find((f) => `${f.parent.typeName}.${f.oneof?.name}` === name)?.parent;
      const oneof = message?.oneofs.find((o) => `${message.typeName}.${o.name}` === name);
      const expected = [...(oneof?.fields.map((f) => f.name) ?? []), "(none)"];
      const missing = expected.filter((c) => !choices.has(c));
      if (missing.length > 0) out.push(`oneof ${name}: never chose ${missing.join(", ")}`);
    }
    return out;
  }
}

function fieldName(field: DescField): string {
  return `${field.parent.typeName}.${field.name}`;
}

/**
 * What a field must have been given over a full cycle. Oneof members are chosen too rarely to
 * walk a catalog; their cases are checked instead (Coverage.oneofCases).
 */
function requiredTags(field: DescField): string[] {
  if (field.oneof) return [];
  const finiteOnly = field.parent.typeName === "google.protobuf.Value";
  if (field.fieldKind === "list" || field.fieldKind === "map") {
    const sizes = ["empty", "one", "several"];
    const kind = field.fieldKind === "list" ? field.listKind : field.mapKind;
    if (kind === "enum") return [...sizes, "known", "unknown"];
    if (kind === "scalar") return [...sizes, ...scalarTags(field.scalar!, finiteOnly)];
    return sizes;
  }
  const presence = hasPresence(field) ? ["unset", "default", "value"] : [];
  if (field.fieldKind === "message") return presence;
  if (field.fieldKind === "enum") return [...presence, "known", "unknown"];
  return [...presence, ...scalarTags(field.scalar, finiteOnly)];
}

function scalarTags(type: ScalarType, finiteOnly: boolean): string[] {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return finiteOnly ? ["max", "-max", "-0"] : ["max", "-max", "tiny", "-0", "nan", "inf", "-inf"];
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return ["max", "min", "zero", "-1"];
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return ["max", "zero"];
    case ScalarType.BOOL:
      return ["true", "false"];
    case ScalarType.STRING:
      return ["empty", "astral", "combining", "rtl"];
    case ScalarType.BYTES:
      return ["empty", "random", "all-256"];
  }
}

/** Whether the field tracks presence (messages, proto3 optional, oneof members). */
export function hasPresence(field: DescField): boolean {
  return field.fieldKind === "message" || field.presence === 1 /* EXPLICIT */;
}

export function generateMessages(desc: DescMessage, options: GenerateOptions): Message[] {
  const rng = seededRandom(options.seed ^ hash(desc.typeName));
  const generator = new Generator(rng, options);
  return Array.from({ length: options.count }, () => generator.message(desc, 0).message);
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

type Entry<T> = { tag: string; value: T | ((rng: () => number) => T) };

const I32_MAX = 2 ** 31 - 1;
const U32_MAX = 2 ** 32 - 1;
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;
const BEYOND_DOUBLE = 2n ** 53n + 1n;
const FLOAT_MAX = 3.4028234663852886e38;
const FLOAT_TINY = 1.401298464324817e-45;

const randomU32 = (rng: () => number) => Math.floor(rng() * 2 ** 32) >>> 0;
const randomU64 = (rng: () => number) => (BigInt(randomU32(rng)) << 32n) | BigInt(randomU32(rng));

const DOUBLES: Entry<number>[] = [
  { tag: "max", value: Number.MAX_VALUE },
  { tag: "-max", value: -Number.MAX_VALUE },
  { tag: "tiny", value: Number.MIN_VALUE },
  { tag: "-0", value: -0 },
  { tag: "nan", value: NaN },
  { tag: "inf", value: Infinity },
  { tag: "-inf", value: -Infinity },
  { tag: "random", value: (rng) => (rng() - 0.5) * 10 ** Math.floor(rng() * 600 - 300) },
];
const FLOATS: Entry<number>[] = [
  { tag: "max", value: FLOAT_MAX },
  { tag: "-max", value: -FLOAT_MAX },
  { tag: "tiny", value: FLOAT_TINY },
  { tag: "-0", value: -0 },
  { tag: "nan", value: NaN },
  { tag: "inf", value: Infinity },
  { tag: "-inf", value: -Infinity },
  { tag: "random", value: (rng) => Math.fround((rng() - 0.5) * 10 ** Math.floor(rng() * 70 - 35)) },
];
/** google.protobuf.Value's number_value: JSON has no NaN or Infinity there. */
const FINITE_DOUBLES: Entry<number>[] = [
  { tag: "max", value: Number.MAX_VALUE },
  { tag: "-max", value: -Number.MAX_VALUE },
  { tag: "-0", value: -0 },
  { tag: "random", value: (rng) => (rng() - 0.5) * 1e6 },
];
const INT32S: Entry<number>[] = [
  { tag: "max", value: I32_MAX },
  { tag: "min", value: -(2 ** 31) },
  { tag: "zero", value: 0 },
  { tag: "-1", value: -1 },
  { tag: "one", value: 1 },
  { tag: "random", value: (rng) => randomU32(rng) | 0 },
];
const UINT32S: Entry<number>[] = [
  { tag: "max", value: U32_MAX },
  { tag: "zero", value: 0 },
  { tag: "one", value: 1 },
  { tag: "2^31", value: 2 ** 31 },
  { tag: "random", value: randomU32 },
];
const INT64S: Entry<bigint>[] = [
  { tag: "max", value: I64_MAX },
  { tag: "min", value: I64_MIN },
  { tag: "zero", value: 0n },
  { tag: "-1", value: -1n },
  { tag: "2^53+1", value: BEYOND_DOUBLE },
  { tag: "-(2^53+1)", value: -BEYOND_DOUBLE },
  { tag: "random", value: (rng) => BigInt.asIntN(64, randomU64(rng)) },
];
const UINT64S: Entry<bigint>[] = [
  { tag: "max", value: U64_MAX },
  { tag: "zero", value: 0n },
  { tag: "one", value: 1n },
  { tag: "2^53+1", value: BEYOND_DOUBLE },
  { tag: "2^63", value: 2n ** 63n },
  { tag: "random", value: randomU64 },
];
const BOOLS: Entry<boolean>[] = [
  { tag: "true", value: true },
  { tag: "false", value: false },
];

const ASTRAL = "𝄞 😀 🀄 𓂀 👩‍👩‍👧‍👦 🇺🇳";
const COMBINING = "e\u0301 a\u0308 n\u0303 Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319";
const RTL = "שלום עולם · مرحبا بالعالم \u200f(123)\u200e";
const SPECIALS = "tab\there \"quotes\" \\ back/slash <tag> & nul\u0000 \u2028\u2029 \ufeff bom \r\n";

const STRINGS: Entry<string>[] = [
  { tag: "empty", value: "" },
  { tag: "astral", value: ASTRAL },
  { tag: "combining", value: COMBINING },
  { tag: "rtl", value: RTL },
  { tag: "specials", value: SPECIALS },
  { tag: "ascii", value: "plain ascii 0123456789" },
  { tag: "long", value: (rng) => randomText(rng, 600) },
  { tag: "random", value: (rng) => randomText(rng, 1 + Math.floor(rng() * 40)) },
];
/** Strings for the key field: every one is a valid event key (or empty: no key). */
const KEY_STRINGS: Entry<string>[] = [
  { tag: "empty", value: "" },
  { tag: "astral", value: "key-😀-𝄞" },
  { tag: "combining", value: "cafe\u0301-n\u0303" },
  { tag: "rtl", value: "מפתח-مفتاح" },
  { tag: "subject-characters", value: "a.b *>c~" },
  { tag: "ascii", value: "plain_key-0123" },
  { tag: "long", value: (rng) => keyText(rng, 200) },
  { tag: "random", value: (rng) => keyText(rng, 1 + Math.floor(rng() * 30)) },
];

const BYTES: Entry<Uint8Array>[] = [
  { tag: "empty", value: new Uint8Array(0) },
  { tag: "random", value: (rng) => randomBytes(rng, 1 + Math.floor(rng() * 40)) },
  { tag: "all-256", value: Uint8Array.from({ length: 256 }, (_, i) => 255 - i) },
  { tag: "zero-byte", value: new Uint8Array([0]) },
  { tag: "long", value: (rng) => randomBytes(rng, 300) },
];

function randomBytes(rng: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(rng() * 256));
}

/** Code points from several scripts and planes; never a lone surrogate. */
const ALPHABET = [
  ..."abcXYZ019 _-.,:;!?'\"\\/{}[]\t\n",
  ..."äöüßéçñøå",
  ..."αβγδΩЖЯжщ",
  ..."中文字符日本語한국어",
  ..."אבגדהمرحبا",
  ..."e\u0301\u0308\u200d\u200f",
  ..."😀🚀🌍𝄞𓂀🀄🧬",
];
function randomText(rng: () => number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(rng() * ALPHABET.length)]!;
  return s;
}
const KEY_ALPHABET = [..."abcXYZ019_-.:*>~", ..."äöüßéçñ", ..."αβγЖЯ", ..."中文日本", ..."אבمر", ..."😀🚀𝄞"];
function keyText(rng: () => number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += KEY_ALPHABET[Math.floor(rng() * KEY_ALPHABET.length)]!;
  return s;
}

/** Timestamp bounds of canonical JSON: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const TS_MIN = -62135596800n;
const TS_MAX = 253402300799n;
const TIMESTAMPS: Entry<[bigint, number]>[] = [
  { tag: "min", value: [TS_MIN, 0] },
  { tag: "max", value: [TS_MAX, 999_999_999] },
  { tag: "epoch", value: [0n, 0] },
  { tag: "nanos", value: (rng) => [1_700_000_000n + BigInt(Math.floor(rng() * 1e8)), 123_456_789] },
  { tag: "one-nano", value: [1_000_000_000n, 1] },
  { tag: "before-epoch", value: [-1n, 500_000_000] },
  { tag: "micros", value: (rng) => [BigInt(Math.floor(rng() * 4e9)), 654_321_000] },
  { tag: "random", value: (rng) => [TS_MIN + BigInt(Math.floor(rng() * Number(TS_MAX - TS_MIN))), Math.floor(rng() * 1e9)] },
];
/** Duration bounds of canonical JSON: +-315,576,000,000 s; nanos carry the seconds' sign. */
const DUR_MAX = 315_576_000_000n;
const DURATIONS: Entry<[bigint, number]>[] = [
  { tag: "max", value: [DUR_MAX, 999_999_999] },
  { tag: "min", value: [-DUR_MAX, -999_999_999] },
  { tag: "zero", value: [0n, 0] },
  { tag: "one-nano", value: [0n, 1] },
  { tag: "minus-half", value: [0n, -500_000_000] },
  { tag: "millis", value: [3n, 250_000_000] },
  { tag: "negative", value: (rng) => [-BigInt(1 + Math.floor(rng() * 1e6)), -Math.floor(rng() * 1e9)] },
  { tag: "random", value: (rng) => [BigInt(Math.floor(rng() * 1e9)), Math.floor(rng() * 1e9)] },
];

class Generator {
  /** How often each decision of each field was taken: every field walks its catalogs in turn. */
  readonly #turns = new Map<string, number>();

  constructor(
    private readonly rng: () => number,
    private readonly options: GenerateOptions,
  ) {}

  private get coverage(): Coverage | undefined {
    return this.options.coverage;
  }

  /**
   * The next of `length` choices for one decision about one field. Each decision starts at an
   * offset of its own (so the fields of one message do not all take their maxima together) and
   * then steps through every choice.
   */
  private turn(decision: string, length: number): number {
    const taken = this.#turns.get(decision) ?? 0;
    this.#turns.set(decision, taken + 1);
    return (hash(decision) + taken) % length;
  }

  private pick<T>(decision: string, catalog: readonly Entry<T>[]): { tag: string; value: T } {
    const entry = catalog[this.turn(decision, catalog.length)]!;
    const value = typeof entry.value === "function" ? (entry.value as (rng: () => number) => T)(this.rng) : entry.value;
    return { tag: entry.tag, value };
  }

  message(desc: DescMessage, depth: number): ReflectMessage {
    const r = reflect(desc, create(desc));
    switch (desc.typeName) {
      case "google.protobuf.Timestamp":
        return this.secondsAndNanos(r, TIMESTAMPS);
      case "google.protobuf.Duration":
        return this.secondsAndNanos(r, DURATIONS);
      case "google.protobuf.FieldMask": {
        const paths = r.get(desc.fields[0]!) as ReflectList;
        paths.add("a_field");
        paths.add("nested.other_field");
        return r;
      }
      case "google.protobuf.Any":
        return this.any(r, depth);
    }
    for (const oneof of desc.oneofs) {
      const choice = this.turn(`${desc.typeName}.${oneof.name}:case`, oneof.fields.length + 1);
      let field = oneof.fields[choice];
      if (field?.fieldKind === "message" && depth + 1 > MAX_DEPTH) field = undefined;
      this.coverage?.recordOneof(desc, oneof.name, field?.name ?? "(none)");
      if (field) this.setValue(r, field, depth, "value");
    }
    for (const field of desc.fields) {
      if (field.oneof) continue;
      switch (field.fieldKind) {
        case "list":
          this.list(r, field, depth);
          break;
        case "map":
          this.map(r, field, depth);
          break;
        default: {
          if (!hasPresence(field)) {
            this.setValue(r, field, depth, "value");
            break;
          }
          // Presence: unset, the default value, a value (twice as often: values have catalogs).
          const mode = (["unset", "default", "value", "value"] as const)[this.turn(`${fieldName(field)}:presence`, 4)]!;
          if (field.fieldKind === "message" && depth + 1 > MAX_DEPTH && mode !== "unset") {
            this.coverage?.record(field, DEPTH_LIMITED);
            break;
          }
          this.coverage?.record(field, mode);
          if (mode !== "unset") this.setValue(r, field, depth, mode);
        }
      }
    }
    return r;
  }

  private secondsAndNanos(r: ReflectMessage, catalog: readonly Entry<[bigint, number]>[]): ReflectMessage {
    const { value } = this.pick(`${r.desc.typeName}:value`, catalog);
    r.set(r.desc.fields.find((f) => f.number === 1)!, value[0]);
    r.set(r.desc.fields.find((f) => f.number === 2)!, value[1]);
    return r;
  }

  /** Packs a Timestamp or a Duration, when the registry knows them. */
  private any(r: ReflectMessage, depth: number): ReflectMessage {
    const name = this.turn("google.protobuf.Any:packed", 2) === 0 ? "google.protobuf.Timestamp" : "google.protobuf.Duration";
    const packed = this.options.registry?.getMessage(name);
    if (!packed) return r;
    const inner = this.message(packed, depth + 1);
    r.set(r.desc.fields.find((f) => f.number === 1)!, `type.googleapis.com/${name}`);
    r.set(r.desc.fields.find((f) => f.number === 2)!, toBinary(packed, inner.message));
    return r;
  }

  /** Sets a singular field (or oneof member): `default` is the zero value or an empty message. */
  private setValue(r: ReflectMessage, field: DescField, depth: number, mode: "default" | "value"): void {
    if (field.fieldKind === "message") {
      r.set(field, mode === "default" ? reflect(field.message, create(field.message)) : this.message(field.message, depth + 1));
      return;
    }
    if (field.fieldKind === "enum") {
      r.set(field, mode === "default" ? (field.enum.values[0]?.number ?? 0) : this.enumValue(field, field.enum));
      return;
    }
    if (field.fieldKind !== "scalar") return;
    r.set(field, mode === "default" ? zeroOf(field.scalar) : this.scalar(field, field.scalar));
  }

  private enumValue(field: DescField, desc: DescEnum): number {
    const catalog: Entry<number>[] = [
      ...desc.values.map((v) => ({ tag: "known", value: v.number })),
      { tag: "unknown", value: 77 },
      { tag: "unknown", value: -3 },
    ];
    const { tag, value } = this.pick(`${fieldName(field)}:value`, catalog);
    this.coverage?.record(field, tag);
    return value;
  }

  private scalar(field: DescField, type: ScalarType): unknown {
    const { tag, value } = this.pick(`${fieldName(field)}:value`, this.catalog(field, type));
    this.coverage?.record(field, tag);
    return value;
  }

  private catalog(field: DescField, type: ScalarType): readonly Entry<unknown>[] {
    switch (type) {
      case ScalarType.DOUBLE:
        return field.parent.typeName === "google.protobuf.Value" ? FINITE_DOUBLES : DOUBLES;
      case ScalarType.FLOAT:
        return FLOATS;
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return INT32S;
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return UINT32S;
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return INT64S;
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return UINT64S;
      case ScalarType.BOOL:
        return BOOLS;
      case ScalarType.STRING:
        return field === this.options.keyField ? KEY_STRINGS : STRINGS;
      case ScalarType.BYTES:
        return BYTES;
    }
  }

  /** How many items a list or map gets: none, one or several (fewer when deep: sizes multiply). */
  private size(field: DescField, depth: number): number {
    const mode = this.turn(`${fieldName(field)}:size`, 3);
    this.coverage?.record(field, (["empty", "one", "several"] as const)[mode]!);
    if (mode === 0) return 0;
    if (mode === 1) return 1;
    const messages = (field.fieldKind === "list" && field.listKind === "message") || (field.fieldKind === "map" && field.mapKind === "message");
    if (messages) return depth === 0 ? 3 : 2;
    return 3 + Math.floor(this.rng() * 4);
  }

  private list(r: ReflectMessage, field: DescField & { fieldKind: "list" }, depth: number): void {
    if (field.listKind === "message" && depth + 1 > MAX_DEPTH) {
      this.coverage?.record(field, DEPTH_LIMITED);
      return;
    }
    const size = this.size(field, depth);
    const list = r.get(field) as ReflectList;
    for (let i = 0; i < size; i++) {
      if (field.listKind === "message") list.add(this.message(field.message, depth + 1));
      else if (field.listKind === "enum") list.add(this.enumValue(field, field.enum));
      else list.add(this.scalar(field, field.scalar));
    }
  }

  private map(r: ReflectMessage, field: DescField & { fieldKind: "map" }, depth: number): void {
    if (field.mapKind === "message" && depth + 1 > MAX_DEPTH) {
      this.coverage?.record(field, DEPTH_LIMITED);
      return;
    }
    const size = this.size(field, depth);
    const map = r.get(field) as ReflectMap;
    for (const key of this.mapKeys(field, size)) {
      if (field.mapKind === "message") map.set(key, this.message(field.message, depth + 1));
      else if (field.mapKind === "enum") map.set(key, this.enumValue(field, field.enum));
      else map.set(key, this.scalar(field, field.scalar));
    }
  }

  /** Distinct keys from the key type's catalog (extremes and the zero key included). */
  private mapKeys(field: DescField & { fieldKind: "map" }, size: number): unknown[] {
    const catalog = this.keyCatalog(field.mapKey);
    const keys = new Map<string, unknown>();
    for (let i = 0; keys.size < size && i < size * 4 + catalog.length; i++) {
      const { tag, value } = this.pick(`${fieldName(field)}:key`, catalog);
      if (!keys.has(String(value))) this.coverage?.record(field, `key:${tag}`);
      keys.set(String(value), value);
    }
    return [...keys.values()];
  }

  private keyCatalog(type: ScalarType): readonly Entry<unknown>[] {
    switch (type) {
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return INT32S;
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return UINT32S;
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return INT64S;
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return UINT64S;
      case ScalarType.BOOL:
        return BOOLS;
      default:
        return STRINGS;
    }
  }
}

function zeroOf(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    case ScalarType.BOOL:
      return false;
    case ScalarType.STRING:
      return "";
    case ScalarType.BYTES:
      return new Uint8Array(0);
    default:
      return 0;
  }
}
