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
 * A GET whose failures are sorted for the reconnect loop: a 4xx is the caller's mistake
 * (RequestRefusedError), anything else may pass (ConnectionLostError). Undefined when aborted.
 */
export async function getOrLose(
  url: string,
  accept: string,
  signal: AbortSignal,
  what: string,
  everConnected: boolean,
): Promise<Response | undefined> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept }, signal });
  } catch (err) {
    if (signal.aborted) return undefined;
    throw new ConnectionLostError(`${what}: ${(err as Error).message}`, everConnected);
  }
  if (response.status >= 400 && response.status < 500) throw await RequestRefusedError.from(response);
  if (!response.ok || !response.body) throw new ConnectionLostError(`${what}: HTTP ${response.status}`, everConnected);
  return response;
}
