import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { lockStore } from "./store-lock.js";
import { findExecutable, spawnTiedToParent } from "./tied-process.js";

export type RunningNatsServer = {
  url: string;
  port: number;
  pid: number;
  storeDir: string;
  stop(): Promise<void>;
};

export class NatsServerNotFoundError extends Error {

  constructor(detail?: string) {
    super(
      [
        "nats-server was not found on PATH, in /usr/sbin or in /usr/local/bin.",
        ...(detail ? [detail] : []),
        "To get it: on Debian/Ubuntu run `apt-get install -y nats-server` as root;",
        "elsewhere install a nats-server 2.9 or newer release from the NATS project and put it on PATH;",
        "or set NATS_URL to use an existing NATS server with JetStream enabled.",
      ].join(" "),
    );
    this.name = "NatsServerNotFoundError";
  }
}

export class NatsServerStartError extends Error {

  constructor(reason: string, lastLogLines: readonly string[]) {
    const log = lastLogLines.length > 0 ? lastLogLines.join("\n") : "(no output)";
    super(`nats-server failed to start: ${reason}\nLast nats-server log lines:\n${log}`);
    this.name = "NatsServerStartError";
  }
}

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const LOG_LINES_KEPT = 30;
const AUTO_PORT_ATTEMPTS = 3;

export async function findNatsServer(options: {
  install: boolean;
  log?: (line: string) => void;
}): Promise<string> {
  const found = await findExecutable("nats-server");
  if (found) return found;
  if (!options.install) throw new NatsServerNotFoundError();

  const aptGet = await findAptGetWeMayUse();
  if (!aptGet) throw new NatsServerNotFoundError();

  const log = options.log ?? (() => {});
  try {
    log("nats-server not found; installing it with apt-get");
    await runCapturingOutput(aptGet, ["update"], log);
    await runCapturingOutput(aptGet, ["install", "-y", "nats-server"], log);
  } catch (error) {
    throw new NatsServerNotFoundError(`Installing it with apt-get failed: ${errorMessage(error)}.`);
  }
  const installed = await findExecutable("nats-server");
  if (!installed) throw new NatsServerNotFoundError("apt-get reported success but the binary is still missing.");
  log(`installed nats-server at ${installed}`);
  return installed;
}

export async function startNatsServer(options: {
  storeDir: string;
  port?: number;
  host?: string;
  binary?: string;
  /** More nats-server flags, such as those that make it one node of a cluster. */
  args?: readonly string[];
  log?: (line: string) => void;
}): Promise<RunningNatsServer> {
  const host = options.host ?? "127.0.0.1";
  const binary = options.binary ?? (await findNatsServer({ install: false, log: options.log }));
  await mkdir(options.storeDir, { recursive: true });

  const lock = lockStore(options.storeDir);
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await pickFreePort(host));
    try {
      const server = await launch({ binary, host, port, storeDir: options.storeDir, args: options.args ?? [], log: options.log });
      lock.running(server.url);
      return { ...server, stop: () => server.stop().finally(lock.release) };
    } catch (error) {
      // A port we picked ourselves can be taken by someone else before nats-server binds it.
      const canRetry = !options.port && attempt < AUTO_PORT_ATTEMPTS && error instanceof PortInUseError;
      if (!canRetry) {
        lock.release();
        throw error;
      }
    }
  }
}

/** nats-server could not listen on a port it was given: someone else took it. */
export class PortInUseError extends NatsServerStartError {}

type LaunchOptions = {
  binary: string;
  host: string;
  port: number;
  storeDir: string;
  args: readonly string[];
  log: ((line: string) => void) | undefined;
};

async function launch(options: LaunchOptions): Promise<RunningNatsServer> {
  const { binary, host, port, storeDir, log } = options;
  // No -m flag: the HTTP monitor stays disabled. Never pass -p 0: nats-server reads it as "use 4222".
  const serverArgs = ["-js", "-sd", storeDir, "-a", host, "-p", String(port), ...options.args];
  const child = await spawnTiedToParent(binary, serverArgs, { stdio: ["ignore", "ignore", "pipe"] });

  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const lastLogLines: string[] = [];
  let stopRequested = false;

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new NatsServerStartError(`not ready after ${READY_TIMEOUT_MS / 1000} s`, lastLogLines));
    }, READY_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new NatsServerStartError(`could not run ${binary}: ${error.message}`, lastLogLines));
    });
    // "close" rather than "exit" so every log line has arrived before we quote them.
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const reason = `exited before it was ready (${describeExit(code, signal)})`;
      const addressInUse = lastLogLines.some((line) => line.includes("address already in use"));
      reject(addressInUse ? new PortInUseError(reason, lastLogLines) : new NatsServerStartError(reason, lastLogLines));
    });
    createInterface({ input: stderrOf(child) }).on("line", (line) => {
      lastLogLines.push(line);
      if (lastLogLines.length > LOG_LINES_KEPT) lastLogLines.shift();
      log?.(line);
      if (line.includes("Server is ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await ready;

  child.once("exit", (code, signal) => {
    if (!stopRequested) log?.(`nats-server (pid ${child.pid}) exited unexpectedly (${describeExit(code, signal)})`);
  });
  // A server the caller forgot to stop must not keep Node alive; the exit hook still ends it.
  child.unref();
  stderrOf(child).unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopRequested = true;
    stopping ??= terminate(child, closed);
    return stopping;
  };
  return { url: `nats://${urlHost(host)}:${port}`, port, pid: pidOf(child), storeDir, stop };
}

async function terminate(child: ChildProcess, closed: Promise<void>): Promise<void> {
  // Hold the event loop open again so the caller's await is not cut short.
  child.ref();
  stderrOf(child).ref();
  let escalation: NodeJS.Timeout | undefined;
  if (!hasExited(child)) {
    child.kill("SIGTERM");
    escalation = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  }
  await closed;
  clearTimeout(escalation);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function stderrOf(child: ChildProcess): Socket {
  if (!child.stderr) throw new Error("nats-server was spawned without a stderr pipe");
  // Node backs child stdio pipes with net.Socket; the Readable type hides ref()/unref().
  return child.stderr as Socket;
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error("nats-server has no pid although it reported ready");
  return child.pid;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** A port nobody listens on now; someone may take it before the caller does. */
export async function pickFreePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error(`could not pick a free port on ${host}`);
  return address.port;
}

async function findAptGetWeMayUse(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  if (!(await isDebianLike())) return undefined;
  return findExecutable("apt-get");
}

async function isDebianLike(): Promise<boolean> {
  const osRelease = await readFile("/etc/os-release", "utf8").catch(() => "");
  const fields = new Map(
    osRelease.split("\n").map((line): [string, string] => {
      const separator = line.indexOf("=");
      return [line.slice(0, separator), line.slice(separator + 1).replace(/^["']|["']$/g, "")];
    }),
  );
  const family = `${fields.get("ID") ?? ""} ${fields.get("ID_LIKE") ?? ""}`.toLowerCase().split(/\s+/);
  return family.includes("debian") || family.includes("ubuntu");
}

async function runCapturingOutput(command: string, args: string[], log: (line: string) => void): Promise<void> {
  const commandLine = [command, ...args].join(" ");
  log(`running ${commandLine}`);
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const lastLines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      lastLines.push(line);
      if (lastLines.length > LOG_LINES_KEPT) lastLines.shift();
      log(line);
    });
  }
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  if (code !== 0) {
    throw new Error(`${commandLine} failed (${describeExit(code, signal)}):\n${lastLines.join("\n")}`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
