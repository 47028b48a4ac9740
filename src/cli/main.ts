/**
 * The streamgate command line. Every command has --help and --version; exit codes are 0 for
 * success, 1 for a failure while running, 2 for a usage mistake (commander's, or a UsageError).
 */
import { Command, CommanderError } from "commander";
import { addCodegenCommand } from "./codegen-command.js";
import { addConfigCommand } from "./config-command.js";
import { addDevCommands } from "./dev-command.js";
import { addInitCommand } from "./init-command.js";
import { addKeysCommand } from "./keys-command.js";
import { addPublishCommand } from "./publish-command.js";
import { addServeCommands } from "./serve-command.js";
import { addStreamsCommands } from "./streams-command.js";
import { addTailCommand } from "./tail-command.js";
import { addTokenCommand } from "./token-command.js";
import { UsageError } from "./usage-error.js";
import { VERSION } from "../version.js";
import { addWebhooksCommands } from "./webhooks-command.js";

export function buildProgram(): Command {
  const program = new Command("streamgate")
    .description("Protobuf-described event streams on NATS JetStream, over WebSocket, SSE, polling and webhooks.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(add --help for the usage)")
    .exitOverride();
  addServeCommands(program);
  addInitCommand(program);
  addCodegenCommand(program);
  addConfigCommand(program);
  addTokenCommand(program);
  addKeysCommand(program);
  // Clients of a running gateway, over its HTTP API.
  addStreamsCommands(program);
  addTailCommand(program);
  addPublishCommand(program);
  addWebhooksCommands(program);
  addDevCommands(program);
  // Subcommands inherit exitOverride and output settings, and each gets its own --version.
  for (const command of allCommands(program)) command.version(VERSION, "-V, --version").exitOverride();
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    // commander has printed its message already; --help and --version end this way too.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      console.error(`streamgate: ${err.message}\n(add --help for the usage)`);
      return 2;
    }
    console.error(err instanceof Error ? `streamgate: ${err.message}` : err);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
