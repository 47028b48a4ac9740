import { Option, type Command } from "commander";
import { readSpecToJson } from "@streamgate/protocol/read-spec";
import type { AttemptsLogEntry, DeadLetter } from "../webhooks/logs.js";
import type { StartedWebhookView, WebhookView } from "../webhooks/service.js";
import { formatGap } from "./event-format.js";
import { gatewayClient, withGatewayOptions, type GatewayClient } from "./gateway-client.js";
import { collect } from "./grant-syntax.js";
import { wholeNumber } from "./number-arguments.js";
import { fields, printJson, table } from "./output.js";
import { filtersOf, positionOf, withFilterOptions, withPositionOptions, type FilterOptions, type PositionOptions } from "./read-options.js";
import { UsageError } from "./usage-error.js";

interface Common {
  token?: string;
  json?: boolean;
}
interface Options extends Common {
  url: URL;
  limit?: number;
}
interface CreateOptions extends Common, PositionOptions, FilterOptions {
  /** The receiver's URL; the gateway's is --gateway here. */
  url: string;
  gateway: URL;
  stream: string;
  header: string[];
  description?: string;
  format?: string;
  retrySchedule?: string;
}

/** The webhook API of PROTOCOL.md section 6, on a running gateway. */
export function addWebhooksCommands(program: Command): void {
  const webhooks = program.command("webhooks").description("the webhooks of a running gateway (needs admin on their streams)");
  const json = (command: Command) => command.option("--json", "print the API's JSON");
  const path = (id: string, rest = "") => `/v1/webhooks/${encodeURIComponent(id)}${rest}`;

  json(withGatewayOptions(webhooks.command("list")))
    .description("every webhook, with its status, position and counts: GET /v1/webhooks")
    .action(async (options: Options) => {
      const answer = await client(options).get<{ webhooks: WebhookView[] }>("/v1/webhooks");
      if (options.json) return printJson(answer);
      const rows = answer.webhooks.map((w) => [w.id, w.stream, w.status, String(w.position), String(w.counts.delivered), String(w.counts.failedAttempts), String(w.counts.deadLetters), w.url]);
      console.log(table(["ID", "STREAM", "STATUS", "POSITION", "DELIVERED", "FAILED", "DEAD", "URL"], rows));
    });

  const create = webhooks
    .command("create")
    .description("register a webhook: POST /v1/webhooks; prints it with its secret, shown this once")
    .requiredOption("--url <url>", "where the events are POSTed")
    .requiredOption("--stream <stream>", "the stream whose events it receives");
  withPositionOptions(create, ' (default: "now")');
  json(withGatewayOptions(withFilterOptions(create), "--gateway"))
    .option("--header <name=value>", "a header sent with every delivery (repeatable; the API shows its name only)", collect, [])
    .option("--description <text>", "what the webhook is for")
    .addOption(new Option("--format <format>", "the body: the envelope, or CloudEvents binary mode").choices(["envelope", "cloudevents"]))
    .option("--retry-schedule <delays>", 'delays before each retry, comma-separated ("5s,5m,30m"); then a dead letter')
    .action(async (options: CreateOptions) => {
      const position = positionOf(options);
      const body = {
        url: options.url,
        stream: options.stream,
        ...readSpecToJson({ position: position ?? { from: "now" }, ...filtersOf(options) }),
        ...(options.header.length > 0 && { headers: headers(options.header) }),
        ...(options.description !== undefined && { description: options.description }),
        ...(options.format !== undefined && { format: options.format }),
        ...(options.retrySchedule !== undefined && { retrySchedule: options.retrySchedule.split(",") }),
      };
      const created = await gatewayClient(options.gateway, options.token).post<StartedWebhookView & { secret: string }>("/v1/webhooks", body);
      if (options.json) return printJson(created);
      console.log(fields([["id", created.id], ["secret", created.secret], ...view(created)]));
      if (created.gap) console.error(formatGap(created.gap));
      console.error("The secret is shown this once: the receiver needs it to check signatures.");
    });

  const replay = webhooks
    .command("replay")
    .description("restart delivery at a position: POST /v1/webhooks/{id}/replay")
    .argument("<id>");
  json(withGatewayOptions(withPositionOptions(replay, ""))).action(async (id: string, options: Options & PositionOptions) => {
    const position = positionOf(options);
    if (!position) throw new UsageError("give the position to replay from: --from, --since or --last");
    const replayed = await client(options).post<StartedWebhookView>(path(id, "/replay"), readSpecToJson({ position }));
    if (options.json) return printJson(replayed);
    console.log(fields(view(replayed)));
    if (replayed.gap) console.error(formatGap(replayed.gap));
  });

  json(withGatewayOptions(limited(webhooks.command("attempts").argument("<id>"))))
    .description("the delivery log, newest first: GET /v1/webhooks/{id}/attempts")
    .action(async (id: string, options: Options) => {
      const answer = await client(options).get<{ attempts: AttemptsLogEntry[] }>(path(id, "/attempts"), { query: limitQuery(options) });
      if (options.json) return printJson(answer);
      const rows = answer.attempts.map((a) =>
        "kind" in a
          ? [a.at, "", "", "", "gap", "", `offset ${a.requested} asked for, oldest held ${a.first}`]
          : [a.at, String(a.offset), a.eventId, String(a.attempt), a.status === undefined ? "-" : String(a.status), String(a.durationMs), a.error ?? ""],
      );
      console.log(table(["AT", "OFFSET", "EVENT ID", "ATTEMPT", "STATUS", "MS", "ERROR"], rows));
    });

  json(withGatewayOptions(limited(webhooks.command("dead-letters").argument("<id>"))))
    .description("events that ran out of retries: GET /v1/webhooks/{id}/dead-letters")
    .action(async (id: string, options: Options) => {
      const answer = await client(options).get<{ deadLetters: DeadLetter[] }>(path(id, "/dead-letters"), { query: limitQuery(options) });
      if (options.json) return printJson(answer);
      const rows = answer.deadLetters.map((d) => [String(d.offset), d.eventId, String(d.attempts), d.at, d.lastError]);
      console.log(table(["OFFSET", "EVENT ID", "ATTEMPTS", "AT", "LAST ERROR"], rows));
    });

  json(withGatewayOptions(webhooks.command("redeliver").argument("<id>")))
    .description("deliver the dead letters again: POST /v1/webhooks/{id}/dead-letters/redeliver")
    .action(async (id: string, options: Options) => {
      const answer = await client(options).post<{ redelivered: number }>(path(id, "/dead-letters/redeliver"));
      if (options.json) return printJson(answer);
      console.log(`${id}: ${answer.redelivered} dead letter(s) queued for delivery again`);
    });
}

function client(options: Options): GatewayClient {
  return gatewayClient(options.url, options.token);
}

/** A webhook's state as `create` and `replay` print it. */
function view(webhook: WebhookView): [string, string][] {
  const rows: [string, string | undefined][] = [
    ["stream", webhook.stream],
    ["url", webhook.url],
    ["status", webhook.status],
    ["position", String(webhook.position)],
    ["types", webhook.types?.join(", ")],
    ["key", webhook.key],
    ["headers", webhook.headers.join(", ") || undefined],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined);
}

function limited(command: Command): Command {
  return command.option("--limit <n>", "at most this many entries (1 to 1000; the gateway's default 100)", wholeNumber);
}

function limitQuery(options: Options): URLSearchParams {
  return new URLSearchParams(options.limit === undefined ? {} : { limit: String(options.limit) });
}

/** --header name=value, repeated, as the API's headers object. */
function headers(given: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    given.map((text) => {
      const equals = text.indexOf("=");
      if (equals <= 0) throw new UsageError(`--header ${text}: not name=value`);
      return [text.slice(0, equals), text.slice(equals + 1)];
    }),
  );
}
