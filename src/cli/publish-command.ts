import { text } from "node:stream/consumers";
import type { Command } from "commander";
import type { PublishResult } from "@streamgate/protocol/publish";
import { gatewayClient, withGatewayOptions } from "./gateway-client.js";
import { printJson } from "./output.js";
import { UsageError } from "./usage-error.js";

interface Options {
  url: URL;
  token?: string;
  key?: string;
  id?: string;
  json?: boolean;
}

export function addPublishCommand(program: Command): void {
  withGatewayOptions(program.command("publish"))
    .description("publish one event to a running gateway: POST /v1/streams/{stream}/events")
    .argument("<stream>")
    .argument("<type>", "the event type, e.g. demo.orders.v1.OrderCreated")
    .argument("<json>", "the event's data as canonical proto3 JSON, or - to read it from stdin")
    .option("--key <key>", "the event's key (by default the gateway fills it from the type's key field)")
    .option("--id <id>", "the event id (idempotency key): publishing it again stores nothing new")
    .option("--json", "print the API's JSON")
    .action(async (stream: string, type: string, json: string, options: Options) => {
      const data = parseData(json === "-" ? await text(process.stdin) : json);
      const event = { type, data, ...(options.key !== undefined && { key: options.key }), ...(options.id !== undefined && { id: options.id }) };
      const result = await gatewayClient(options.url, options.token).post<PublishResult>(`/v1/streams/${encodeURIComponent(stream)}/events`, event);
      if (options.json) return printJson(result);
      const stored = result.duplicate ? "already stored (a duplicate id) at" : "published at";
      console.log(`${stream}: ${stored} offset ${result.offset}, id ${result.id}`);
    });
}

function parseData(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UsageError(`<json>: not JSON (${err.message})`);
    throw err;
  }
}
