/**
 * Child processes of the README test, each in its own process group, so that stopping one stops
 * what it started too (npm → sh → node, bash → curl); every wait on one is bounded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { waitUntilGone } from "../support/process.js";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Group {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the group's leader exited. */
  exited: Promise<Exit>;
  /** Whether the leader has exited. */
  ended(): boolean;
  /** SIGTERM to the whole group, SIGKILL after graceMs; resolves when the leader is gone. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface GroupOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

export function startGroup(command: string, args: string[], options: GroupOptions): Group {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d));
  child.stderr!.on("data", (d: Buffer) => (stderr += d));
  let ended = false;
  const exited = new Promise<Exit>((resolve) => {
    child.on("error", (err) => {
      stderr += `${err}`;
      ended = true;
      resolve({ code: null, signal: null });
    });
    // "close", not "exit": by then every byte it wrote has been read.
    child.on("close", (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
  });
  const pid = child.pid;
  const stop = async (graceMs = 15_000): Promise<Exit> => {
    if (pid === undefined) return exited;
    signalGroup(pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
    const exit = await exited;
    clearTimeout(timer);
    // What the leader started in its group (a nats-server, a curl) goes with it.
    signalGroup(pid, "SIGKILL");
    await waitUntilGone(pid, graceMs);
    return exit;
  };
  return { child, stdout: () => stdout, stderr: () => stderr, exited, ended: () => ended, stop };
}

export class CommandFailed extends Error {}

/** Runs to its end within timeoutMs; throws CommandFailed (with its output) on a timeout or a non-zero exit. */
export async function runToEnd(command: string, args: string[], options: GroupOptions, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const group = startGroup(command, args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void group.stop(5_000);
  }, timeoutMs);
  const exit = await group.exited;
  clearTimeout(timer);
  const output = { stdout: group.stdout(), stderr: group.stderr() };
  if (timedOut || exit.code !== 0) {
    const how = timedOut ? `did not end within ${timeoutMs} ms` : `exited ${exit.code ?? exit.signal}`;
    throw new CommandFailed(`${command} ${args.join(" ")} (in ${options.cwd}) ${how}\n--- stdout\n${output.stdout}\n--- stderr\n${output.stderr}`);
  }
  return output;
}
