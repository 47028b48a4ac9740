import { asBackboneUnavailable } from "../backbone/errors.js";

/**
 * The error codes of PROTOCOL.md section 4. Every failure a client sees is one of these, as
 * {"error":{"code","message","details"?}}.
 */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Seconds, for rate_limited and unavailable. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, ...(this.details && { details: this.details }) } };
  }
}

/** Errors from our own modules carry a protocol code; backbone trouble is unavailable; anything else is internal. */
export function toApiError(cause: unknown): ApiError {
  if (cause instanceof ApiError) return cause;
  const err = asBackboneUnavailable(cause) ?? cause;
  if (err instanceof Error && "code" in err && typeof err.code === "string" && err.code in ERROR_STATUS) {
    const retryAfter = "retryAfter" in err && typeof err.retryAfter === "number" ? err.retryAfter : undefined;
    return new ApiError(err.code as ErrorCode, err.message, undefined, retryAfter);
  }
  return new ApiError("internal", "internal error");
}
