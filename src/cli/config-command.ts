import type { Command } from "commander";
import { authMode, loadConfig } from "../config/config.js";

export function addConfigCommand(program: Command): void {
  program
    .command("config")
    .description("the gateway's configuration")
    .command("check")
    .argument("[file]", "the configuration file (default: STREAMGATE_CONFIG, else ./streamgate.config.json)")
    .description("validate a configuration file with the environment laid over it, as serve would read it")
    .option("--json", "print the resulting configuration as JSON")
    .action((file: string | undefined, options: { json?: boolean }) => {
      const config = loadConfig(file ? { ...process.env, STREAMGATE_CONFIG: file } : process.env);
      const mode = authMode(config);
      if (options.json) return console.log(JSON.stringify(config, null, 2));
      console.log(`configuration is valid: auth ${mode}, listening on ${config.host}:${config.port}, ${config.natsUrl ?? "embedded nats-server"}`);
    });
}
