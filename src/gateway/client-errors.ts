import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { ApiError } from "@streamgate/protocol/errors";

/**
 * Answers what Node's HTTP parser refuses before fastify sees a request (a request line and
 * headers over the size limit, a client too slow to send them, bytes that are not HTTP) in
 * the protocol's error shape, as fastify's own handler would, but with a protocol body.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // The peer is gone: there is no one to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) socket.write(rawResponse(clientError(err)));
  socket.destroy(err);
}

function clientError(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return new ApiError("headers_too_large", `the request line and headers, query string included, exceed the ${maxHeaderSize} bytes the gateway reads`);
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new ApiError("request_timeout", "the request's headers did not arrive in time");
    default:
      return new ApiError("invalid_argument", `the request is not valid HTTP/1.1 (${err.code ?? err.message})`);
  }
}

function rawResponse(error: ApiError): string {
  const body = JSON.stringify(error.toJSON());
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}`,
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
  ];
  return `${head.join("\r\n")}\r\n\r\n${body}`;
}
