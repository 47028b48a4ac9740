import { ApiError } from "../protocol/errors.js";

/** No credential, or one that does not verify (401 with WWW-Authenticate: Bearer error="invalid_token"). */
export class UnauthenticatedError extends ApiError {
  constructor(message: string) {
    super("unauthenticated", message);
    this.name = "UnauthenticatedError";
  }
}

/** A valid credential without the grant (403 with WWW-Authenticate: Bearer error="insufficient_scope"). */
export class PermissionDeniedError extends ApiError {
  constructor(message: string) {
    super("permission_denied", message);
    this.name = "PermissionDeniedError";
  }
}
