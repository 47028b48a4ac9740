import type { JsonValue } from "@bufbuild/protobuf";

/**
 * JSON.stringify, except that -0 stays -0: proto3 JSON keeps the sign of a negative zero
 * float or double, and JSON.stringify writes it as 0.
 */
export function stringifyJson(value: JsonValue): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
