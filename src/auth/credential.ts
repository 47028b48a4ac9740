import { UnauthenticatedError } from "./unauthenticated-error.js";

type Fields = Record<string, string | string[] | undefined>;

/** The parts of a request a credential can come in (Node's lower-case header names). */
export interface CredentialSource {
  headers: Fields;
  query?: Fields;
}

export const CREDENTIAL_COOKIE = "streamgate_token";
export const CREDENTIAL_QUERY_PARAMETER = "access_token";

/** RFC 6750 section 2.1: the scheme is case-insensitive, the credential a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The credential a request carries (PROTOCOL.md 9.1), first match wins: the Authorization
 * header, the `streamgate_token` cookie, then `access_token=` in the query only when allowed
 * (URLs end up in logs). Undefined when there is none.
 */
export function credentialOf(request: CredentialSource, allowQueryToken: boolean): string | undefined {
  return (
    bearerOf(request.headers.authorization) ??
    cookieOf(request.headers.cookie) ??
    (allowQueryToken ? queryTokenOf(request.query?.[CREDENTIAL_QUERY_PARAMETER]) : undefined)
  );
}

/** An Authorization header that is there but not a bearer credential is refused, not skipped. */
function bearerOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === "string" ? BEARER.exec(header) : null;
  if (!match?.[1]) throw new UnauthenticatedError('the Authorization header must be one "Bearer <token or API key>"');
  return match[1];
}

/** An empty cookie is how browsers are told to forget one: it counts as none. */
function cookieOf(header: string | string[] | undefined): string | undefined {
  const pairs = (Array.isArray(header) ? header.join(";") : (header ?? "")).split(";");
  for (const pair of pairs) {
    const separator = pair.indexOf("=");
    if (separator < 0 || pair.slice(0, separator).trim() !== CREDENTIAL_COOKIE) continue;
    const value = unquote(pair.slice(separator + 1).trim());
    return value === "" ? undefined : value;
  }
  return undefined;
}

/** RFC 6265 allows a cookie value in double quotes, which are not part of it. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

function queryTokenOf(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) {
    throw new UnauthenticatedError(`the query names ${CREDENTIAL_QUERY_PARAMETER} more than once`);
  }
  return value === "" ? undefined : value;
}
