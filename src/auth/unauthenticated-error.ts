import { ApiError } from "@streamgate/protocol/errors";

/**
 * No credential, or one that does not hold (401). Its message says what was wrong in words of
 * the gateway's own, never with any part of the credential: messages reach logs and clients.
 */
export class UnauthenticatedError extends ApiError {
  constructor(message: string) {
    super("unauthenticated", message);
    this.name = "UnauthenticatedError";
  }
}
