import { PermissionDeniedError } from "./permission-denied-error.js";
import type { Action, Grant, Principal } from "./principal.js";

/** What one request asks to do (PROTOCOL.md section 9.2): a read names its filters, a publish its event. */
export interface Intent {
  action: Action;
  stream: string;
  /** Reads: the types= filter (none: every type). Publishes: the event's type. */
  types?: readonly string[] | undefined;
  /** Reads: the key= filter (none: every key). Publishes: the event's key. */
  key?: string | undefined;
}

function coversStream(grant: Grant, stream: string): boolean {
  return grant.streams.some((pattern) => (pattern.endsWith("*") ? stream.startsWith(pattern.slice(0, -1)) : pattern === stream));
}

/** A grant that narrows by keys or types covers only requests within them: an unfiltered read is not. */
function covers(grant: Grant, intent: Intent): boolean {
  if (!grant.actions.includes(intent.action) || !coversStream(grant, intent.stream)) return false;
  if (grant.keys && (intent.key === undefined || !grant.keys.includes(intent.key))) return false;
  if (grant.types && (!intent.types?.length || !intent.types.every((t) => grant.types!.includes(t)))) return false;
  return true;
}

/** Whether the principal may do this. */
export function allows(principal: Principal, intent: Intent): boolean {
  return principal.grants === "all" || principal.grants.some((grant) => covers(grant, intent));
}

/** Throws permission_denied naming what the grants on that stream allow, when they do not cover it. */
export function authorize(principal: Principal, intent: Intent): void {
  if (allows(principal, intent)) return;
  throw new PermissionDeniedError(`${describe(intent)} is not granted${allowedText(principal, intent)}`);
}

/** Whether the principal may read the stream at all, with some filter: GET /v1/streams lists these. */
export function mayRead(principal: Principal, stream: string): boolean {
  return principal.grants === "all" || principal.grants.some((g) => g.actions.includes("subscribe") && coversStream(g, stream));
}

function describe({ action, stream, types, key }: Intent): string {
  const filters = [types?.length ? `types ${types.join(",")}` : "", key !== undefined ? `key ${key}` : ""].filter(Boolean).join(" and ");
  return `${action} on stream ${stream}${filters ? ` with ${filters}` : ""}`;
}

function allowedText(principal: Principal, intent: Intent): string {
  if (principal.grants === "all") return "";
  const relevant = principal.grants.filter((g) => g.actions.includes(intent.action) && coversStream(g, intent.stream));
  if (relevant.length === 0) return `: no grant allows ${intent.action} on ${intent.stream}`;
  const narrowing = relevant.map((g) =>
    [g.keys && `key= one of ${g.keys.join(", ")}`, g.types && `types= within ${g.types.join(", ")}`].filter(Boolean).join(" and "),
  );
  return `: the grant allows only ${narrowing.join("; or ")}`;
}
