import { readSpecToQuery, type ReadSpec } from "@streamgate/protocol/read-spec";

/** One read over HTTP (SSE or long poll): where, what, and with which credential. */
export interface HttpRead {
  baseUrl: string;
  stream: string;
  spec: ReadSpec;
  signal: AbortSignal;
  /** Authorization, when the client has a token. */
  headers: Record<string, string>;
}

/** The URL of a read of `path` (sse, poll) with the spec's query (PROTOCOL.md section 3). */
export function readUrl({ baseUrl, stream }: HttpRead, path: "sse" | "poll", spec: ReadSpec, extra = ""): string {
  return `${baseUrl}/v1/streams/${encodeURIComponent(stream)}/${path}?${readSpecToQuery(spec)}${extra}`;
}

/** A refusal the client cannot fix by reconnecting (a 4xx): surfaced, not retried. */
export class RequestRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RequestRefusedError";
  }

  static async from(response: Response): Promise<RequestRefusedError> {
    const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    return new RequestRefusedError(response.status, body.error?.code ?? "unknown", body.error?.message ?? response.statusText);
  }
}

/** The transport could not reach the gateway, or was cut off: worth another try. */
export class ConnectionLostError extends Error {
  constructor(
    message: string,
    /** Whether anything was received before: a protocol that never connects may be blocked. */
    readonly everConnected: boolean,
  ) {
    super(message);
    this.name = "ConnectionLostError";
  }
}

/**
 * The credential ran out while connected (a later poll's 401, SSE `event: expired`, a WebSocket
 * closed with 1008 after it subscribed): a fresh token resumes the read, at once.
 */
export class CredentialExpiredError extends ConnectionLostError {
  constructor(message: string) {
    super(message, true);
    this.name = "CredentialExpiredError";
  }
}

export interface GetOptions {
  accept: string;
  /** The Authorization of the client's credential, when it has one. */
  headers: Record<string, string>;
  signal: AbortSignal;
  what: string;
  /** Whether this read was answered before: then a 401 means its credential expired since. */
  everConnected: boolean;
}

/**
 * A GET whose failures are sorted for the reconnect loop: a 4xx is the caller's mistake
 * (RequestRefusedError), except a 401 on a read that was served before (CredentialExpiredError);
 * anything else may pass (ConnectionLostError). Undefined when aborted.
 */
export async function getOrLose(url: string, options: GetOptions): Promise<Response | undefined> {
  const { accept, headers, signal, what, everConnected } = options;
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...headers, accept }, signal });
  } catch (err) {
    if (signal.aborted) return undefined;
    throw new ConnectionLostError(`${what}: ${(err as Error).message}`, everConnected);
  }
  if (response.status >= 400 && response.status < 500) {
    const refused = await RequestRefusedError.from(response);
    if (everConnected && refused.code === "unauthenticated") throw new CredentialExpiredError(`${what}: ${refused.message}`);
    throw refused;
  }
  if (!response.ok || !response.body) throw new ConnectionLostError(`${what}: HTTP ${response.status}`, everConnected);
  return response;
}
