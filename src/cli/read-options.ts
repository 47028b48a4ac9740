import { Option, type Command } from "commander";
import { InvalidPositionError, positionFromQuery, type Position } from "@streamgate/protocol/position";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import { UsageError } from "./usage-error.js";

/** --from, --since and --last, as given. */
export interface PositionOptions {
  from?: string;
  since?: string;
  last?: string;
}

/** --types and --key, as given. */
export interface FilterOptions {
  types?: string;
  key?: string;
}

const POSITIONS = ["from", "since", "last"] as const;

/** Where a read starts (PROTOCOL.md section 3), at most one of the three. */
export function withPositionOptions(command: Command, fallback: string): Command {
  const others = (name: string) => POSITIONS.filter((p) => p !== name);
  return command
    .addOption(new Option("--from <offset>", `start at this offset, "first" (the oldest held) or "now"${fallback}`).conflicts(others("from")))
    .addOption(new Option("--since <time>", "start at the first event stored at or after this RFC 3339 time").conflicts(others("since")))
    .addOption(new Option("--last <n>", "start with the last n events (1 to 10000)").conflicts(others("last")));
}

export function withFilterOptions(command: Command): Command {
  return command
    .option("--types <types>", "only these event types (comma-separated)")
    .option("--key <key>", "only events with this key");
}

/** The position given, checked as the gateway would check it; undefined when none is given. */
export function positionOf(options: PositionOptions): Position | undefined {
  if (POSITIONS.every((name) => options[name] === undefined)) return undefined;
  try {
    return positionFromQuery((name) => options[name]);
  } catch (err) {
    if (err instanceof InvalidPositionError) throw new UsageError(err.problem);
    throw err;
  }
}

/** The filters given, as a read spec carries them. */
export function filtersOf(options: FilterOptions): Pick<ReadSpec, "types" | "key"> {
  return {
    ...(options.types !== undefined && { types: options.types.split(",") }),
    ...(options.key !== undefined && { key: options.key }),
  };
}
