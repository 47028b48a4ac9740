import { newApiKey } from "../auth/authenticator.js";
import type { ApiKeyConfig } from "../auth/authenticator.js";
import type { Command } from "commander";
import { collect, GRANT_SYNTAX, parseGrants } from "./grant-syntax.js";

export function addKeysCommand(program: Command): void {
  program
    .command("keys")
    .description("API keys")
    .command("create")
    .description("print a new API key (shown this once: the gateway keeps only its hash), then the line to add to auth.apiKeys")
    .requiredOption("--name <name>", "what the key is for; logs and errors name it")
    .requiredOption("--grant <grant>", "what the key may do (repeatable; see below)", collect, [])
    .option("--json", "print one JSON object: {key, entry}")
    .addHelpText("after", `\n${GRANT_SYNTAX}`)
    .action((options: { name: string; grant: string[]; json?: boolean }) => {
      const created = createApiKey(options.name, options.grant);
      if (options.json) return console.log(JSON.stringify(created));
      console.log(created.key);
      console.log(JSON.stringify(created.entry));
      console.error("The key is shown this once. Add the line above to auth.apiKeys in the configuration.");
    });
}

/** The key and its configuration entry. */
export function createApiKey(name: string, grantTexts: string[]): { key: string; entry: ApiKeyConfig } {
  const grants = parseGrants(grantTexts);
  const { key, sha256 } = newApiKey();
  return { key, entry: { name, sha256, grants } };
}
