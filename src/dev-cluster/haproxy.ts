import type { ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { findExecutable, spawnTiedToParent } from "../backbone/tied-process.js";
import { renderHaproxyConfig, type BalancedGateway } from "./load-balancer-config.js";
import { GiveUpWaiting, waitUntil } from "./wait-until.js";

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;

export class HaproxyNotFoundError extends Error {
  constructor() {
    super(
      "haproxy was not found on PATH, in /usr/sbin or in /usr/local/bin: the dev cluster's load balancer is haproxy (2.6 or newer). " +
        "On Debian/Ubuntu install it with `apt-get install haproxy` (as root); elsewhere, your system's haproxy package.",
    );
    this.name = "HaproxyNotFoundError";
  }
}

export class HaproxyStartError extends Error {
  constructor(reason: string, logFile: string, logTail: string) {
    super(`haproxy ${reason}; the end of ${logFile}:\n${logTail}`);
    this.name = "HaproxyStartError";
  }
}

export async function findHaproxy(): Promise<string> {
  const found = await findExecutable("haproxy");
  if (!found) throw new HaproxyNotFoundError();
  return found;
}

export interface RunningHaproxy {
  pid: number;
  port: number;
  /** The configuration it runs with: deploy/haproxy.cfg filled in. */
  configFile: string;
  log: string;
  /** The servers haproxy sends requests to now (its health checks have them up). */
  serversInRotation(): Promise<string[]>;
  /** SIGTERM (haproxy's hard stop), then SIGKILL after a grace; resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * haproxy in the foreground on host:port in front of the gateways, with the configuration of
 * deploy/haproxy.cfg. Resolves once it answers on its runtime socket.
 */
export async function startHaproxy(options: {
  binary: string;
  dir: string;
  host: string;
  port: number;
  gateways: readonly BalancedGateway[];
}): Promise<RunningHaproxy> {
  await mkdir(options.dir, { recursive: true });
  const configFile = join(options.dir, "haproxy.cfg");
  const log = join(options.dir, "haproxy.log");
  const statsSocket = join(options.dir, "haproxy.sock");
  await writeFile(configFile, await renderHaproxyConfig({ host: options.host, port: options.port }, options.gateways));
  // The runtime socket is the dev cluster's own addition, in a file of its own, so that the
  // configuration file stays the template and nothing else.
  const runtimeFile = join(options.dir, "runtime-api.cfg");
  await writeFile(runtimeFile, `global\n    stats socket ${statsSocket} mode 600 level user\n`);

  const logFd = openSync(log, "a");
  let child: ChildProcess;
  try {
    child = await spawnTiedToParent(options.binary, ["-db", "-f", configFile, "-f", runtimeFile], { stdio: ["ignore", logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const escalation = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(escalation);
    }
  };
  const serversInRotation = async () => {
    const stats = parseCsv(await askRuntimeApi(statsSocket, "show stat"));
    // "UP 1/2" is up and failing its first check: still in rotation.
    return stats.filter((row) => row.svname !== "BACKEND" && row.svname !== "FRONTEND" && row.status?.startsWith("UP")).map((row) => row.svname!);
  };

  try {
    await waitUntil(
      "haproxy answering on its runtime socket",
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new GiveUpWaiting(`exited (${child.signalCode ?? `exit code ${child.exitCode}`})`);
        await serversInRotation();
        return true;
      },
      READY_TIMEOUT_MS,
    );
  } catch (error) {
    await stop();
    const tail = (await readFile(log, "utf8").catch(() => "")).slice(-LOG_TAIL_CHARS);
    throw new HaproxyStartError(error instanceof Error ? error.message : String(error), log, tail);
  }
  if (child.pid === undefined) throw new Error("haproxy has no pid although it answers");
  return { pid: child.pid, port: options.port, configFile, log, serversInRotation, stop };
}

/** One command to haproxy's runtime API; it answers and closes the connection. */
function askRuntimeApi(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.end(`${command}\n`));
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
  });
}

/** `show stat`: a header line "# name,name,…", then one line per proxy and server. */
function parseCsv(text: string): Record<string, string | undefined>[] {
  const [header, ...rows] = text.split("\n").filter((line) => line.trim() !== "");
  if (!header?.startsWith("# ")) throw new Error(`haproxy's stats have no header: ${text.slice(0, 200)}`);
  const names = header.slice(2).split(",");
  return rows.map((row) => {
    const values = row.split(",");
    return Object.fromEntries(names.map((name, i) => [name, values[i]]));
  });
}
