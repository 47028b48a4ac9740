/**
 * streamgate CLI.
 *   streamgate serve            run the gateway (npm start)
 *   streamgate streams apply    create or update the JetStream streams declared in the schemas
 *   streamgate token            mint a development token from an issuer's shared secret
 *   streamgate keys create      make an API key and its configuration line
 * Options are read with node:util parseArgs; a CLI framework (commander) could replace it.
 */
import { applyStreams } from "../backbone/provision.js";
import { loadConfig } from "../config/config.js";
import { openBackbone, runGateway } from "../app.js";
import { createApiKey, KEYS_CREATE_HELP } from "./keys-command.js";
import { mintToken, TOKEN_HELP } from "./token-command.js";
import { UsageError } from "./usage-error.js";

const USAGE = `usage: streamgate <command>
  serve           run the gateway (PORT, HOST, NATS_URL, STREAMGATE_DATA_DIR, STREAMGATE_CONFIG)
  streams apply   create or update the JetStream streams declared in the schemas
  token           mint a development token from an issuer's shared secret (token --help)
  keys create     make a new API key and its configuration line (keys create --help)`;

async function main(args: string[]): Promise<number> {
  const [first = "", second = ""] = args;
  try {
    if (first === "token") return await token(args.slice(1));
    if (first === "keys" && second === "create") return keysCreate(args.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const command = first === "keys" ? "keys create" : first;
    console.error(`streamgate ${command}: ${err.message}\n(streamgate ${command} --help shows the usage)`);
    return 2;
  }
  const command = args.join(" ");
  if (command === "serve" || command === "") return serve();
  if (command === "streams apply") return streamsApply();
  console.error(USAGE);
  return command === "help" || command === "--help" ? 0 : 2;
}

async function token(args: string[]): Promise<number> {
  const jwt = await mintToken(args, () => loadConfig());
  console.log(jwt ?? TOKEN_HELP);
  return 0;
}

function keysCreate(args: string[]): number {
  const created = createApiKey(args);
  if (!created) {
    console.log(KEYS_CREATE_HELP);
    return 0;
  }
  console.log(created.key);
  console.log(JSON.stringify(created.entry));
  console.error("The key is shown this once. Add the line above to auth.apiKeys in the configuration.");
  return 0;
}

async function serve(): Promise<number> {
  const gateway = await runGateway(loadConfig());
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      gateway.app.log.info({ signal }, "shutting down");
      gateway.stop().then(resolve, (err: unknown) => {
        gateway.app.log.error({ err }, "shutdown did not finish cleanly");
        resolve();
      });
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
  });
  return 0;
}

async function streamsApply(): Promise<number> {
  const session = await openBackbone(loadConfig(), (line) => console.error(line));
  try {
    const results = await applyStreams(session.backbone.jsm, [...session.schemas.streams.values()]);
    for (const r of results) console.log(`${r.stream}: ${r.action}`);
    return 0;
  } finally {
    await session.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? `streamgate: ${err.message}` : err);
    process.exit(1);
  },
);
