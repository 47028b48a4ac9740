import type { Command } from "commander";
import type { Envelope, StreamInfo } from "@streamgate/protocol/envelope";
import { InvalidPositionError, resolvePosition, type GapNotice } from "@streamgate/protocol/position";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import { formatEvent, formatGap } from "./event-format.js";
import { gatewayClient, withGatewayOptions } from "./gateway-client.js";
import { readPolls } from "./poll-reader.js";
import { filtersOf, positionOf, withFilterOptions, withPositionOptions, type FilterOptions, type PositionOptions } from "./read-options.js";
import { ReplayProgress } from "./replay-progress.js";

interface Options extends PositionOptions, FilterOptions {
  url: URL;
  token?: string;
  epoch?: string;
  untilCaughtUp?: boolean;
  json?: boolean;
}

export function addTailCommand(program: Command): void {
  const command = program
    .command("tail")
    .description(
      "read a stream's events from a running gateway (chained long polls, GET /v1/streams/{stream}/poll): " +
        "from a position on, filtered, then live until Ctrl-C; gap notices go to stderr (to stdout with --json)",
    )
    .argument("<stream>");
  withPositionOptions(command, ' (default: "now")');
  withFilterOptions(command)
    .option("--epoch <epoch>", "the stream epoch the offsets belong to: if it is stale, a gap notice says so")
    .option("--until-caught-up", "stop at the stream's last offset as the tail began, instead of following live")
    .option("--json", 'one JSON line per event, the envelope as the API gives it; a gap notice as a {"gap":...} line');
  withGatewayOptions(command).action(tail);
}

async function tail(stream: string, options: Options): Promise<void> {
  const spec: ReadSpec = { position: positionOf(options) ?? { from: "now" }, ...(options.epoch && { epoch: options.epoch }), ...filtersOf(options) };
  const client = gatewayClient(options.url, options.token);
  const info = await client.get<StreamInfo>(`/v1/streams/${encodeURIComponent(stream)}`);
  const follow = !options.untilCaughtUp;
  const caughtUpAt = info.last_offset;
  const print = options.json ? printJson : printPretty;

  const stop = new AbortController();
  const interrupted = () => stop.abort();
  // A reader that went away (`| head`) ends the tail, as it would end `tail -f`.
  const stdoutFailed = (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    stop.abort();
  };
  process.once("SIGINT", interrupted);
  process.stdout.on("error", stdoutFailed);
  const progress = new ReplayProgress(stream, caughtUpAt, replayStart(spec, info));
  let lost = false;
  try {
    const batches = readPolls({
      client,
      stream,
      spec,
      epoch: options.epoch ?? info.epoch,
      caughtUpAt,
      follow,
      signal: stop.signal,
      onRetry: (error, retryMs) => {
        if (!lost) console.error(`streamgate: ${error.message}; trying again every ${retryMs / 1000} s`);
        lost = true;
      },
    });
    for await (const batch of batches) {
      if (lost) console.error("streamgate: reconnected; reading on where the tail stood");
      lost = false;
      if (batch.gap) print({ gap: batch.gap });
      for (const event of batch.events) {
        if (!follow && event.offset > caughtUpAt) break;
        print({ event });
      }
      progress.advance(batch.next, batch.events[0]?.offset);
      if (batch.next > caughtUpAt) progress.stop();
    }
  } finally {
    progress.stop();
    process.off("SIGINT", interrupted);
    process.stdout.off("error", stdoutFailed);
  }
}

type Item = { event: Envelope } | { gap: GapNotice };

function printJson(item: Item): void {
  console.log(JSON.stringify("event" in item ? item.event : item));
}

function printPretty(item: Item): void {
  if ("event" in item) console.log(formatEvent(item.event));
  else console.error(formatGap(item.gap));
}

/** Where the replay starts, when the position says so before reading (since= does not). */
function replayStart(spec: ReadSpec, info: StreamInfo): number | undefined {
  const range = { name: info.name, firstOffset: info.first_offset, lastOffset: info.last_offset, epoch: info.epoch };
  try {
    const start = resolvePosition(spec.position, range, spec.epoch);
    return "startOffset" in start ? start.startOffset : undefined;
  } catch (err) {
    // Beyond the end: the gateway refuses the read, and there is nothing to replay.
    if (err instanceof InvalidPositionError) return undefined;
    throw err;
  }
}
