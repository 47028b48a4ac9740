/** Where the bench's child processes run from, with which Node options, and how they are ended. */
import type { ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);

const SOURCE_CONDITION = "--conditions=@streamgate/source";

/** NODE_OPTIONS without our source condition: the gateway must run the built package, as users run it. */
export function builtNodeOptions(): string {
  return (process.env.NODE_OPTIONS ?? "")
    .split(/\s+/)
    .filter((option) => option !== "" && option !== SOURCE_CONDITION)
    .join(" ");
}

/** NODE_OPTIONS for bench modules (load generators, ceilings), which import the TypeScript sources. */
export function benchNodeOptions(): string {
  return `${builtNodeOptions()} ${SOURCE_CONDITION}`.trim();
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends `signal`, and SIGKILL after graceMs if that did not end it; resolves once it is gone. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const escalation = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(escalation);
}
