import { newApiKey } from "../auth/authenticator.js";
import type { ApiKeyConfig } from "../auth/authenticator.js";
import { parseOptions, required } from "./args.js";
import { GRANT_SYNTAX, parseGrants } from "./grant-syntax.js";

export const KEYS_CREATE_HELP = `usage: streamgate keys create --name <name> --grant <grant> [--grant <grant>...]
Prints a new API key (shown this once: the gateway keeps only its hash), then the line to add
to auth.apiKeys in the configuration.
  --name   what the key is for; logs and errors name it
  --grant  what the key may do (repeatable; see below)
${GRANT_SYNTAX}`;

/** `streamgate keys create`: the key and its configuration entry. */
export function createApiKey(args: string[]): { key: string; entry: ApiKeyConfig } | undefined {
  const options = parseOptions(args, { name: { type: "string" }, grant: { type: "string", multiple: true } });
  if (options.help) return undefined;
  const name = required(options.name, "name");
  const grants = parseGrants(options.grant);
  const { key, sha256 } = newApiKey();
  return { key, entry: { name, sha256, grants } };
}
