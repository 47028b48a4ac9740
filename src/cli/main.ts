/**
 * streamgate CLI.
 *   streamgate serve            run the gateway (npm start)
 *   streamgate streams apply    create or update the JetStream streams declared in the schemas
 */
import { applyStreams } from "../backbone/provision.js";
import { loadConfig } from "../config/config.js";
import { openBackbone, runGateway } from "../app.js";

const USAGE = `usage: streamgate <command>
  serve           run the gateway (PORT, HOST, NATS_URL, STREAMGATE_DATA_DIR, STREAMGATE_CONFIG)
  streams apply   create or update the JetStream streams declared in the schemas`;

async function main(args: string[]): Promise<number> {
  const command = args.join(" ");
  if (command === "serve" || command === "") return serve();
  if (command === "streams apply") return streamsApply();
  console.error(USAGE);
  return command === "help" || command === "--help" ? 0 : 2;
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
