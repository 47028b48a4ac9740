import type { Command } from "commander";
import { loadConfig } from "../config/config.js";

/** The gateway, loaded when a command runs it: every other command starts without its modules. */
const gatewayModules = () => Promise.all([import("../app.js"), import("../backbone/provision.js")]);

/** How soon a gateway whose parent died notices. */
const ORPHAN_CHECK_MS = 500;

/** `serve` and `streams apply`. */
export function addServeCommands(program: Command): void {
  program
    .command("serve")
    .description("run the gateway (PORT, HOST, NATS_URL, STREAMGATE_DATA_DIR, STREAMGATE_CONFIG or ./streamgate.config.json)")
    .action(serve);
  const streams = program.command("streams").description("the JetStream streams declared in the schemas");
  streams.command("apply").description("create or update the streams declared in the schemas").action(streamsApply);
}

async function serve(): Promise<void> {
  const [{ runGateway }] = await gatewayModules();
  const gateway = await runGateway(loadConfig());
  await new Promise<void>((resolve) => {
    // A wrapper signalled in our place (npm, sh, npx) may die without passing the signal on;
    // orphaned, we stop as if told to, so no gateway and nats-server are left holding the port.
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid !== parent) shutdown("parent exited");
    }, ORPHAN_CHECK_MS);
    orphaned.unref();
    const shutdown = (signal: string) => {
      // A signal, then the wrapper's death, is one shutdown: the watch has done its part.
      clearInterval(orphaned);
      gateway.app.log.info({ signal }, "shutting down");
      gateway.stop().then(resolve, (err: unknown) => {
        gateway.app.log.error({ err }, "shutdown did not finish cleanly");
        resolve();
      });
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
  });
}

async function streamsApply(): Promise<void> {
  const [{ openBackbone }, { applyStreams }] = await gatewayModules();
  const config = loadConfig();
  const session = await openBackbone(config, (line) => console.error(line));
  try {
    const results = await applyStreams(session.backbone.jsm, [...session.schemas.streams.values()], config.replicas);
    for (const r of results) console.log(`${r.stream}: ${r.action}`);
  } finally {
    await session.close();
  }
}
