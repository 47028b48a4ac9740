import type { FastifySchema } from "fastify";
import { MAX_LAST } from "@streamgate/protocol/position";
import { READ_PARAMS } from "@streamgate/protocol/read-spec";
import type { JsonSchema } from "./json-schema.js";

/**
 * A route's query string: the parameters it takes, each described. These names are also the
 * ones the gateway lets through (queryParametersOf); any other is refused.
 */
export function querySchema(parameters: Record<string, JsonSchema>): JsonSchema {
  return { type: "object", properties: parameters, additionalProperties: false };
}

/** The query parameters a route's schema names, in its order (the order refusals list them in). */
export function queryParametersOf(schema: FastifySchema | undefined): string[] {
  const query = schema?.querystring;
  if (typeof query !== "object" || query === null || !("properties" in query)) return [];
  const { properties } = query;
  return typeof properties === "object" && properties !== null ? Object.keys(properties) : [];
}

/** PROTOCOL.md section 3; the mapped type makes a parameter added to READ_PARAMS fail the build until it is described. */
const READ_PARAMETERS: { [name in (typeof READ_PARAMS)[number]]: JsonSchema } = {
  from: {
    description: "Where to start: an offset (inclusive), `first` (the oldest retained event) or `now` (only events stored after the read starts; the default).",
    anyOf: [{ type: "integer", minimum: 1 }, { type: "string", enum: ["first", "now"] }],
  },
  since: { type: "string", format: "date-time", description: "Start at the first event stored at or after this RFC 3339 time." },
  last: { type: "integer", minimum: 1, maximum: MAX_LAST, description: "The last n events, then live." },
  epoch: { type: "string", description: "The stream's epoch the position belongs to; when it no longer matches, a gap notice, then the oldest retained event." },
  types: { type: "string", description: "Only these event types, comma-separated." },
  key: { type: "string", description: "Only events with this key." },
};

/** The parameters of every read (at most one of from, since and last), in READ_PARAMS' order. */
export const readParameters: Record<string, JsonSchema> = Object.fromEntries(READ_PARAMS.map((name) => [name, READ_PARAMETERS[name]]));
