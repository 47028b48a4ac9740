import type { Command } from "commander";
import type { StreamInfo } from "@streamgate/protocol/envelope";
import { gatewayClient, withGatewayOptions } from "./gateway-client.js";
import { fields, printJson, table } from "./output.js";

interface Options {
  url: URL;
  token?: string;
  json?: boolean;
}

/** `streams list` and `streams info`, beside `streams apply` (serve-command.ts) under one `streams`. */
export function addStreamsCommands(program: Command): void {
  const streams = program.commands.find((c) => c.name() === "streams") ?? program.command("streams");
  withGatewayOptions(streams.command("list"))
    .description("the streams of a running gateway (those the credential may read): GET /v1/streams")
    .option("--json", "print the API's JSON")
    .action(async (options: Options) => {
      const answer = await gatewayClient(options.url, options.token).get<{ streams: StreamInfo[] }>("/v1/streams");
      if (options.json) return printJson(answer);
      const rows = answer.streams.map((s) => [s.name, String(s.first_offset), String(s.last_offset), String(s.events), String(s.bytes), String(s.types.length), s.description]);
      console.log(table(["STREAM", "FIRST", "LAST", "EVENTS", "BYTES", "TYPES", "DESCRIPTION"], rows));
    });
  withGatewayOptions(streams.command("info").argument("<stream>"))
    .description("one stream of a running gateway: its types, offsets, size and epoch (GET /v1/streams/{stream})")
    .option("--json", "print the API's JSON")
    .action(async (stream: string, options: Options) => {
      const info = await gatewayClient(options.url, options.token).get<StreamInfo>(`/v1/streams/${encodeURIComponent(stream)}`);
      if (options.json) return printJson(info);
      console.log(
        fields([
          ["stream", info.name],
          ["description", info.description],
          ["first offset", String(info.first_offset)],
          ["last offset", String(info.last_offset)],
          ["events", String(info.events)],
          ["bytes", String(info.bytes)],
          ["epoch", info.epoch],
          ["created", info.created],
          ...info.types.map((type, i) => [i === 0 ? "types" : "", type] as const),
        ]),
      );
    });
}
