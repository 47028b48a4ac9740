import { ERROR_CATALOG, type ErrorCode } from "@streamgate/protocol/errors";
import { component, ref, type JsonSchema } from "./json-schema.js";

/** The body of every error response (PROTOCOL.md section 4), once, for every route to reference. */
export const errorBodySchema = component("Error", {
  type: "object",
  description: "Every error, in every protocol: a code of the catalog, a message naming what was wrong, and where a body was wrong, the paths.",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string", enum: Object.keys(ERROR_CATALOG) },
        message: { type: "string" },
        details: {
          type: "array",
          items: {
            type: "object",
            properties: { path: { type: "string", description: "e.g. data.totalCents" }, message: { type: "string" } },
            required: ["path", "message"],
          },
        },
      },
      required: ["code", "message"],
    },
  },
  required: ["error"],
});

/** The headers the gateway sets on an error (server.ts), by code. */
const ERROR_HEADERS: Partial<Record<ErrorCode, Record<string, JsonSchema>>> = {
  unauthenticated: { "WWW-Authenticate": { type: "string", description: "the RFC 6750 challenge: invalid_token" } },
  permission_denied: { "WWW-Authenticate": { type: "string", description: "the RFC 6750 challenge: insufficient_scope" } },
  method_not_allowed: { Allow: { type: "string", description: "the methods the path takes" } },
  rate_limited: { "Retry-After": { type: "integer", description: "seconds" } },
  unavailable: { "Retry-After": { type: "integer", description: "seconds" } },
};

const errorBody = (description: string, headers?: Record<string, JsonSchema>): JsonSchema => ({
  ...ref(errorBodySchema, description),
  ...(headers && { headers }),
});

/** Route response schemas for these error codes, by their status in the catalog. */
export function errorResponses(...codes: ErrorCode[]): Record<string, JsonSchema> {
  return Object.fromEntries(
    codes.map((code) => [String(ERROR_CATALOG[code].status), errorBody(code + (ERROR_CATALOG[code].temporary ? " (temporary: try again later)" : ""), ERROR_HEADERS[code])]),
  );
}

/** What any request may be answered with, whatever its route: the credential, the origin, the Host, a dependency, a bug. */
const ANY_ROUTE: ErrorCode[] = ["invalid_argument", "unauthenticated", "permission_denied", "misdirected_request", "internal", "unavailable"];

/** The errors every route may answer with, and the rest of the catalog as the default. */
export const commonErrorResponses: Record<string, JsonSchema> = {
  ...errorResponses(...ANY_ROUTE),
  default: errorBody("any other code of the catalog, with its status"),
};
