import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError } from "../protocol/errors.js";
import { PermissionDeniedError } from "./permission-denied-error.js";
import { UnauthenticatedError } from "./unauthenticated-error.js";
import { ANONYMOUS, type Principal } from "./principal.js";

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
  app.addHook("onRequest", async (request, reply) => {
    try {
      await check(request);
    } catch (err) {
      // A refused WebSocket upgrade is answered on a socket Node's HTTP server has handed
      // over: nothing else ends it after the answer, and it would stay open until shutdown.
      if (request.headers.upgrade !== undefined) reply.raw.once("finish", () => request.raw.socket.destroy());
      throw err;
    }
  });

  async function check(request: FastifyRequest): Promise<void> {
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
      request.principal = ANONYMOUS;
      return;
    }
    const credential = auth.credentialOf(request);
    request.principal = credential === undefined ? undefined : await auth.authenticate(credential);
  }
}

/** The principal of a request that must have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError("a credential is required: Authorization: Bearer <token or API key>, or the streamgate_token cookie");
  return request.principal;
}

function sameOrigin(request: FastifyRequest, origin: string): boolean {
  return origin === `${request.protocol}://${request.headers.host ?? ""}`;
}
