/**
 * Every failure a client can be told about (PROTOCOL.md section 4), in one catalog: its HTTP
 * status, the WebSocket close code where the failure ends a connection, and whether trying
 * again later can help (`temporary`), which is how clients decide between retrying and giving up.
 */
export const ERROR_CATALOG = {
  invalid_argument: { status: 400, temporary: false },
  unauthenticated: { status: 401, temporary: false, close: 1008 },
  permission_denied: { status: 403, temporary: false, close: 1008 },
  not_found: { status: 404, temporary: false },
  method_not_allowed: { status: 405, temporary: false },
  payload_too_large: { status: 413, temporary: false, close: 1009 },
  uri_too_long: { status: 414, temporary: false },
  unsupported_media_type: { status: 415, temporary: false },
  request_timeout: { status: 408, temporary: true },
  misdirected_request: { status: 421, temporary: false },
  headers_too_large: { status: 431, temporary: false },
  rate_limited: { status: 429, temporary: true },
  internal: { status: 500, temporary: true, close: 1011 },
  unavailable: { status: 503, temporary: true, close: 1013 },
} as const satisfies Record<string, { status: number; temporary: boolean; close?: number }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** WebSocket close codes of PROTOCOL.md section 5.4 that are not tied to one error code. */
export const CLOSE_CODES = {
  /** The gateway is restarting: reconnect (elsewhere) and resume from the last offset. */
  restarting: 1012,
  /** The client could not keep up for too long: resume from the last offset. */
  slowConsumer: 4008,
} as const;

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

/** Whether a failure with this code may pass by itself; unknown codes are taken as final. */
export function isTemporary(code: string): boolean {
  return isErrorCode(code) && ERROR_CATALOG[code].temporary;
}

/** A failure in the protocol's terms: what the client is told, in every protocol. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Seconds, for temporary failures (Retry-After). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details && { details: this.details }) } };
  }
}
