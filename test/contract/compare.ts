/**
 * Field-by-field comparison of two messages of one type, by reflection, naming the path of each
 * difference (e.g. `nested.children[1].weight`, `counts["k"]`, `wrappedDouble.value`).
 *
 * Why not only `equals` from @bufbuild/protobuf: it compares floats with IEEE semantics, so a
 * NaN never equals itself (every message carrying one would "differ"), and -0 equals +0 inside
 * lists, maps, oneofs and optional fields, although proto3 keeps -0 distinct (it is serialized;
 * the language guide: "-0 is considered distinct and will be serialized"). Here floats compare
 * with Object.is: NaN equals NaN, -0 differs from +0. Everything else is what `equals` does
 * (presence, 64-bit integers by value, bytes byte by byte, unknown fields ignored); the contract
 * harness also asserts that `equals` agrees whenever the message holds no NaN.
 */
import { ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { hasPresence } from "./generate.js";

export interface Difference {
  /** Proto field names from the message root. */
  path: string;
  expected: string;
  actual: string;
}

export function diffMessages(desc: DescMessage, expected: Message, actual: Message): Difference[] {
  const out: Difference[] = [];
  diff(reflect(desc, expected), reflect(desc, actual), "", out);
  return out;
}

function diff(a: ReflectMessage, b: ReflectMessage, path: string, out: Difference[]): void {
  for (const field of a.fields) {
    const at = path ? `${path}.${field.name}` : field.name;
    const setA = a.isSet(field);
    const setB = b.isSet(field);
    if (hasPresence(field) && setA !== setB) {
      out.push({ path: at, expected: setA ? showValue(field, a.get(field)) : "(unset)", actual: setB ? showValue(field, b.get(field)) : "(unset)" });
      continue;
    }
    switch (field.fieldKind) {
      case "scalar":
        if (!sameScalar(field.scalar, a.get(field), b.get(field))) {
          out.push({ path: at, expected: showScalar(a.get(field)), actual: showScalar(b.get(field)) });
        }
        break;
      case "enum":
        if (a.get(field) !== b.get(field)) out.push({ path: at, expected: String(a.get(field)), actual: String(b.get(field)) });
        break;
      case "message":
        if (setA) diff(a.get(field) as ReflectMessage, b.get(field) as ReflectMessage, at, out);
        break;
      case "list": {
        const la = a.get(field) as ReflectList;
        const lb = b.get(field) as ReflectList;
        if (la.size !== lb.size) out.push({ path: `${at}.length`, expected: String(la.size), actual: String(lb.size) });
        for (let i = 0; i < Math.min(la.size, lb.size); i++) item(field, field.listKind, la.get(i), lb.get(i), `${at}[${i}]`, out);
        break;
      }
      case "map": {
        const ma = a.get(field) as ReflectMap;
        const mb = b.get(field) as ReflectMap;
        const keysB = new Map([...mb.keys()].map((k) => [String(k), k]));
        for (const [key, value] of ma) {
          const where = `${at}[${showKey(key)}]`;
          const other = keysB.get(String(key));
          if (other === undefined) {
            out.push({ path: where, expected: showItem(field, field.mapKind, value), actual: "(no entry)" });
            continue;
          }
          keysB.delete(String(key));
          item(field, field.mapKind, value, mb.get(other), where, out);
        }
        for (const key of keysB.values()) {
          out.push({ path: `${at}[${showKey(key)}]`, expected: "(no entry)", actual: showItem(field, field.mapKind, mb.get(key)) });
        }
        break;
      }
    }
  }
}

/** A map key in a path: JSON, cut to 40 characters. */
function showKey(key: unknown): string {
  const text = JSON.stringify(String(key));
  return text.length > 40 ? `${text.slice(0, 37)}..."` : text;
}

function item(field: DescField, kind: "scalar" | "enum" | "message", a: unknown, b: unknown, at: string, out: Difference[]): void {
  if (kind === "message") diff(a as ReflectMessage, b as ReflectMessage, at, out);
  else if (kind === "enum" ? a !== b : !sameScalar(field.scalar!, a, b)) out.push({ path: at, expected: showItem(field, kind, a), actual: showItem(field, kind, b) });
}

export function sameScalar(type: ScalarType, a: unknown, b: unknown): boolean {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Object.is(a, b);
    case ScalarType.BYTES:
      return Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array));
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return String(a) === String(b);
    default:
      return a === b;
  }
}

/** Paths of fields the schema does not declare (unknown fields), anywhere in a message. */
export function unknownFields(desc: DescMessage, message: Message): string[] {
  const out: string[] = [];
  const visit = (r: ReflectMessage, path: string): void => {
    for (const u of r.getUnknown() ?? []) out.push(`${path || "(root)"}#${u.no}`);
    for (const field of r.fields) {
      if (!r.isSet(field)) continue;
      const at = path ? `${path}.${field.name}` : field.name;
      const v = r.get(field);
      if (field.fieldKind === "message") visit(v as ReflectMessage, at);
      else if (field.fieldKind === "list" && field.listKind === "message") [...(v as ReflectList)].forEach((x, i) => visit(x as ReflectMessage, `${at}[${i}]`));
      else if (field.fieldKind === "map" && field.mapKind === "message") for (const [k, x] of v as ReflectMap) visit(x as ReflectMessage, `${at}[${showKey(k)}]`);
    }
  };
  visit(reflect(desc, message), "");
  return out;
}

/** Whether a message holds a NaN anywhere (where `equals` cannot be asked). */
export function hasNaN(desc: DescMessage, message: Message): boolean {
  const visit = (r: ReflectMessage): boolean =>
    r.fields.some((field) => {
      if (!r.isSet(field)) return false;
      const v = r.get(field);
      switch (field.fieldKind) {
        case "scalar":
          return Number.isNaN(v);
        case "message":
          return visit(v as ReflectMessage);
        case "list":
          return [...(v as ReflectList)].some((x) => (field.listKind === "message" ? visit(x as ReflectMessage) : Number.isNaN(x)));
        case "map":
          return [...(v as ReflectMap).values()].some((x) => (field.mapKind === "message" ? visit(x as ReflectMessage) : Number.isNaN(x)));
        default:
          return false;
      }
    });
  return visit(reflect(desc, message));
}

function showItem(field: DescField, kind: "scalar" | "enum" | "message", value: unknown): string {
  if (kind === "message") return `(${(value as ReflectMessage).desc.typeName})`;
  if (kind === "enum") return String(value);
  return showScalar(value);
}

function showValue(field: DescField, value: unknown): string {
  if (field.fieldKind === "message") return `(${(value as ReflectMessage).desc.typeName})`;
  return showScalar(value);
}

/** A value as text: -0 and NaN visible, bigints as digits, bytes as base64, long strings cut. */
export function showScalar(value: unknown): string {
  if (value === undefined) return "(none)";
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return `${value}`;
  if (value instanceof Uint8Array) return `bytes(${value.byteLength}) ${Buffer.from(value).toString("base64").slice(0, 48)}`;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
