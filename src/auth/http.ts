import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "@streamgate/protocol/errors";
import { PermissionDeniedError } from "./permission-denied-error.js";
import { UnauthenticatedError } from "./unauthenticated-error.js";
import { anonymousAt, type Principal } from "./principal.js";

/** Turns a request's credential into who it is (the Authenticator, or nothing with auth off). */
export interface RequestAuth {
  mode: "required" | "none";
  /** The bearer credential a request carries (header, cookie, or query where allowed). */
  credentialOf(request: FastifyRequest): string | undefined;
  authenticate(credential: string): Promise<Principal>;
}

export interface BrowserSafety {
  /** Exact origins, or ["*"] (auth off only). */
  allowedOrigins: readonly string[];
  /** Checked only while listening on loopback: DNS rebinding cannot reach a gateway on a laptop. */
  loopback: boolean;
  hostnames: readonly string[];
}

declare module "fastify" {
  interface FastifyRequest {
    /** Who the request acts for; undefined: no credential came with it (auth on). */
    principal: Principal | undefined;
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The checks every request passes before its route (PROTOCOL.md sections 9.1 and 9.4): the
 * Host while on loopback (421), the Origin of browsers (403), and the credential (401 when it
 * does not verify; a request without one goes on, and what it asks for decides: a read or a
 * publish needs a grant, health checks do not).
 */
export function installRequestAuth(app: FastifyInstance, auth: RequestAuth, browsers: BrowserSafety): void {
  app.decorateRequest("principal", undefined);
  const hostnames = new Set([...LOOPBACK_HOSTS, ...browsers.hostnames.map((h) => h.toLowerCase())]);
  const anyOrigin = browsers.allowedOrigins.includes("*");
  const check = async (request: FastifyRequest) => {
    if (browsers.loopback) {
      const host = (request.headers.host ?? "").toLowerCase().replace(/:\d+$/, "");
      if (!hostnames.has(host)) {
        throw new ApiError("misdirected_request", `this gateway does not answer to Host "${host}" (it listens on loopback; add the name to "hostnames")`);
      }
    }
    const origin = request.headers.origin;
    if (auth.mode === "required" && origin !== undefined && !anyOrigin && !browsers.allowedOrigins.includes(origin) && !sameOrigin(request, origin)) {
      throw new PermissionDeniedError(`origin ${origin} is not in allowedOrigins`);
    }
    if (auth.mode === "none") {
      request.principal = anonymousAt(request.ip);
      return;
    }
    const credential = auth.credentialOf(request);
    request.principal = credential === undefined ? undefined : await auth.authenticate(credential);
  };
  // As early as can be, before any body is read; but a WebSocket upgrade refused before
  // @fastify/websocket's own onRequest hook marks it would leave its socket open for good.
  app.addHook("onRequest", async (request) => {
    if (!isUpgrade(request)) await check(request);
  });
  app.addHook("preValidation", async (request) => {
    if (isUpgrade(request)) await check(request);
  });
}

function isUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade?.toLowerCase() === "websocket";
}

/** The principal of a request that must have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError("a credential is required: Authorization: Bearer <token or API key>, or the streamgate_token cookie");
  return request.principal;
}

function sameOrigin(request: FastifyRequest, origin: string): boolean {
  return origin === `${request.protocol}://${request.headers.host ?? ""}`;
}
