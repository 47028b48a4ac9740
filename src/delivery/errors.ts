import { asBackboneUnavailable } from "../backbone/errors.js";
import { ApiError } from "@streamgate/protocol/errors";

/** What a client is told about any failure: protocol errors as they are, backbone trouble as unavailable, anything else is a bug. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return asBackboneUnavailable(err) ?? new ApiError("internal", "internal error");
}
