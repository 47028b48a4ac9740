import type { Grant } from "../auth/principal.js";
import { grantSchema } from "../auth/grants-claim.js";
import { UsageError } from "./usage-error.js";

export const GRANT_SYNTAX = `A grant is <streams>:<actions>[:key=<keys>][:type=<types>], each list comma-separated:
  orders:subscribe:key=ord-17          subscribe to orders, key ord-17 only
  metrics,audit-*:subscribe,publish    streams by name or by a prefix ending in *
  metrics:publish:type=demo.metrics.v1.MetricSample
  *:admin                              the webhook API of every stream
Actions: subscribe, publish, admin. Give --grant once per grant.`;

const list = (text: string) => text.split(",").map((item) => item.trim()).filter(Boolean);

/** One grant of PROTOCOL.md 9.2 from its command-line form (GRANT_SYNTAX). */
export function parseGrant(text: string): Grant {
  const [streams = "", actions = "", ...narrowings] = text.split(":");
  const grant: Record<string, string[]> = { streams: list(streams), actions: list(actions) };
  for (const narrowing of narrowings) {
    const [name, values = ""] = narrowing.split(/=(.*)/s);
    const field = name === "key" ? "keys" : name === "type" ? "types" : undefined;
    if (!field || grant[field]) throw new UsageError(`--grant ${text}: "${narrowing}" is not key=<keys> or type=<types> (each at most once)`);
    grant[field] = list(values);
  }
  const empty = Object.entries(grant).find(([, values]) => values.length === 0);
  if (empty) throw new UsageError(`--grant ${text}: no ${empty[0]}`);
  const parsed = grantSchema.safeParse(grant);
  if (!parsed.success) {
    throw new UsageError(`--grant ${text}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}

export function parseGrants(texts: readonly string[] | undefined): Grant[] {
  if (!texts?.length) throw new UsageError("at least one --grant is required");
  return texts.map(parseGrant);
}

/** A repeatable option's values, in order (commander's argument parser). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];
