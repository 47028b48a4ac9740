import { ApiError } from "@streamgate/protocol/errors";

/** A valid credential without the grant (403 with WWW-Authenticate: Bearer error="insufficient_scope"). */
export class PermissionDeniedError extends ApiError {
  constructor(message: string) {
    super("permission_denied", message);
    this.name = "PermissionDeniedError";
  }
}
