import type { PositionFields } from "../../src/position/position.js";

/** What one connection asks for: where to start, and the filters. */
export interface ReadSpec {
  position: PositionFields;
  epoch?: string;
  types?: readonly string[];
  key?: string;
}

/** The query string of PROTOCOL.md section 3 for a read. */
export function readQuery(spec: ReadSpec): URLSearchParams {
  const query = new URLSearchParams();
  const { from, since, last } = spec.position;
  if (from !== undefined) query.set("from", String(from));
  if (since !== undefined) query.set("since", typeof since === "string" ? since : since.toISOString());
  if (last !== undefined) query.set("last", String(last));
  if (spec.epoch !== undefined) query.set("epoch", spec.epoch);
  if (spec.types?.length) query.set("types", spec.types.join(","));
  if (spec.key !== undefined) query.set("key", spec.key);
  return query;
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
