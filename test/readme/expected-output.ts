/**
 * How what a command printed is compared with what the README shows. Lines are compared one by
 * one; a README line holding JSON (from its first `{` or `[`; the text before it, such as
 * `data: `, must be the same) is compared as JSON, structurally, so key order and spacing do not
 * matter. What varies from run to run is marked in the README itself, and only so:
 *   - a string ending in `…` matches any string that starts with what comes before it
 *     (`"…"` any string, `"wh_…"` any webhook id);
 *   - an object with the member `"…":"…"` may have more members than the README lists.
 * Everything else must be equal: numbers, offsets, keys, types.
 */

export const ELLIPSIS = "…";

export function jsonMatches(expected: unknown, actual: unknown): boolean {
  if (typeof expected === "string" && expected.endsWith(ELLIPSIS)) {
    return typeof actual === "string" && actual.startsWith(expected.slice(0, -ELLIPSIS.length));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => jsonMatches(e, actual[i]));
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    const want = expected as Record<string, unknown>;
    const got = actual as Record<string, unknown>;
    const open = want[ELLIPSIS] === ELLIPSIS;
    const keys = Object.keys(want).filter((k) => !(open && k === ELLIPSIS));
    if (!open && Object.keys(got).length !== keys.length) return false;
    return keys.every((k) => Object.hasOwn(got, k) && jsonMatches(want[k], got[k]));
  }
  return expected === actual;
}

/** `text` parsed as JSON, or { ok: false } when it is no JSON. */
export function parsed(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    if (err instanceof SyntaxError) return { ok: false };
    throw err;
  }
}

/** `text` as a JSON object, if it is one. */
export function parsedObject(text: string): Record<string, unknown> | undefined {
  const json = parsed(text);
  if (!json.ok || typeof json.value !== "object" || json.value === null || Array.isArray(json.value)) return undefined;
  return json.value as Record<string, unknown>;
}

export function lineMatches(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  const start = expected.search(/[[{]/);
  if (start < 0 || actual.slice(0, start) !== expected.slice(0, start)) return false;
  const want = parsed(expected.slice(start));
  const got = parsed(actual.slice(start));
  return want.ok && got.ok && jsonMatches(want.value, got.value);
}

function withoutTrailingBlanks(lines: string[]): string[] {
  const kept = [...lines];
  while (kept.length > 0 && kept.at(-1)!.trim() === "") kept.pop();
  return kept;
}

/**
 * How `printed` compares with the expected lines. A process that `ended` must have printed
 * exactly them ("same"), or it printed something "different". One still running (a stream)
 * must print them first, as complete lines: "same" once it has, "so far" while what it printed
 * agrees with them, "different" as soon as a complete line does not.
 */
export function compareOutput(expected: string[], printed: string, ended: boolean): "same" | "so far" | "different" {
  const want = withoutTrailingBlanks(expected);
  const lines = printed.split("\n");
  // While it runs, the last piece may be half a line.
  const got = withoutTrailingBlanks(ended ? lines : lines.slice(0, -1));
  const agree = got.slice(0, want.length).every((line, i) => lineMatches(want[i]!, line));
  if (!agree || (ended && got.length !== want.length)) return "different";
  return got.length >= want.length ? "same" : "so far";
}
