import { SignJWT } from "jose";
import type { GatewayConfig } from "../config/config.js";
import { parseOptions, required } from "./args.js";
import { GRANT_SYNTAX, parseGrants } from "./grant-syntax.js";
import { UsageError } from "./usage-error.js";

export const TOKEN_HELP = `usage: streamgate token --issuer <iss> --grant <grant> [--grant <grant>...] [--ttl 1h] [--subject dev] [--audience <aud>]
Mints a development JWT signed with the issuer's shared secret from the configuration
(STREAMGATE_CONFIG) and prints it on stdout. The issuer must have a "secret" and allow HS256,
HS384 or HS512 (the first of them it lists signs).
  --issuer    the "issuer" of an entry in auth.issuers
  --grant     what the token may do (repeatable; see below)
  --ttl       how long it lasts: 30s, 15m, 1h, 2d (default 1h)
  --subject   its "sub" (default dev)
  --audience  its "aud" (default auth.audience of the configuration)
${GRANT_SYNTAX}`;

const HS_ALGORITHMS = new Set(["HS256", "HS384", "HS512"]);

/** `streamgate token`: the JWT, for development against a gateway that trusts the issuer's secret. */
export async function mintToken(args: string[], config: () => GatewayConfig): Promise<string | undefined> {
  const options = parseOptions(args, {
    issuer: { type: "string" },
    grant: { type: "string", multiple: true },
    ttl: { type: "string", default: "1h" },
    subject: { type: "string", default: "dev" },
    audience: { type: "string" },
  });
  if (options.help) return undefined;
  const issuerName = required(options.issuer, "issuer");
  const grants = parseGrants(options.grant);
  const { auth } = config();
  const issuer = auth.issuers.find((i) => i.issuer === issuerName);
  if (!issuer) throw new UsageError(`--issuer ${issuerName}: not in auth.issuers of the configuration`);
  const algorithm = issuer.algorithms.find((a) => HS_ALGORITHMS.has(a));
  if (!issuer.secret || !algorithm) {
    throw new UsageError(`--issuer ${issuerName}: has no shared "secret" with an HS256/384/512 algorithm, so tokens for it are not minted here`);
  }
  const jwt = new SignJWT({ [auth.grantsClaim]: { grants } })
    .setProtectedHeader({ alg: algorithm, typ: "at+jwt" })
    .setIssuer(issuer.issuer)
    .setAudience(options.audience ?? auth.audience)
    .setSubject(options.subject)
    .setIssuedAt();
  try {
    jwt.setExpirationTime(`${options.ttl} from now`);
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(`--ttl ${options.ttl}: not a duration such as 30s, 15m, 1h or 2d`);
    throw err;
  }
  return jwt.sign(new TextEncoder().encode(issuer.secret));
}
