import { SignJWT } from "jose";
import type { Command } from "commander";
import { loadConfig, type GatewayConfig } from "../config/config.js";
import { collect, GRANT_SYNTAX, parseGrants } from "./grant-syntax.js";
import { UsageError } from "./usage-error.js";

export function addTokenCommand(program: Command): void {
  program
    .command("token")
    .description(
      "mint a development JWT signed with an issuer's shared secret from the configuration, printed on stdout; " +
        'the issuer needs a "secret" and HS256, HS384 or HS512 (the first it lists signs)',
    )
    .requiredOption("--issuer <iss>", 'the "issuer" of an entry in auth.issuers')
    .requiredOption("--grant <grant>", "what the token may do (repeatable; see below)", collect, [])
    .option("--ttl <duration>", "how long it lasts: 30s, 15m, 1h, 2d", "1h")
    .option("--subject <sub>", 'its "sub"', "dev")
    .option("--audience <aud>", 'its "aud" (default: auth.audience of the configuration)')
    .addHelpText("after", `\n${GRANT_SYNTAX}`)
    .action(async (options: TokenOptions) => console.log(await mintToken(options, loadConfig())));
}

export interface TokenOptions {
  issuer: string;
  grant: string[];
  ttl: string;
  subject: string;
  audience?: string;
}

const HS_ALGORITHMS = new Set(["HS256", "HS384", "HS512"]);

/** `streamgate token`: the JWT, for development against a gateway that trusts the issuer's secret. */
export async function mintToken(options: TokenOptions, config: GatewayConfig): Promise<string> {
  const issuerName = options.issuer;
  const grants = parseGrants(options.grant);
  const { auth } = config;
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
