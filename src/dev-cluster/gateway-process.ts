import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gatewayServeArgs } from "./gateway-command.js";
import { GiveUpWaiting, waitUntil } from "./wait-until.js";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_CHARS = 4_000;

export class GatewayStartError extends Error {
  constructor(name: string, reason: string, logFile: string, logTail: string) {
    super(`gateway ${name} ${reason}; the end of ${logFile}:\n${logTail}`);
    this.name = "GatewayStartError";
  }
}

export interface GatewayProcessOptions {
  name: string;
  port: number;
  /** Its data dir and log file go here. */
  dir: string;
  natsUrl: string;
  /** Laid over ours (PORT, HOST, NATS_URL, STREAMGATE_DATA_DIR) and the inherited environment. */
  env: Record<string, string>;
}

/** One `streamgate serve` process of the dev cluster, which can be killed and started again on its port. */
export class GatewayProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Where its stdout and stderr go. */
  readonly log: string;
  readonly #options: GatewayProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(options: GatewayProcessOptions) {
    this.#options = options;
    this.name = options.name;
    this.port = options.port;
    this.url = `http://${HOST}:${options.port}`;
    this.log = join(options.dir, `${options.name}.log`);
  }

  get pid(): number {
    if (this.#child?.pid === undefined) throw new Error(`gateway ${this.name} is not running`);
    return this.#child.pid;
  }

  /** Starts it unless it runs; resolves once its /readyz answers 200. */
  async start(): Promise<void> {
    if (this.#running()) return;
    const dataDir = join(this.#options.dir, this.name);
    await mkdir(dataDir, { recursive: true });
    const env = {
      ...process.env,
      PORT: String(this.#options.port),
      HOST,
      NATS_URL: this.#options.natsUrl,
      STREAMGATE_DATA_DIR: dataDir,
      ...this.#options.env,
    };
    const logFd = openSync(this.log, "a");
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, gatewayServeArgs(), { env, stdio: ["ignore", logFd, logFd] });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(logFd);
    }
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    try {
      await waitUntil(`gateway ${this.name} ready`, () => this.#ready(child), READY_TIMEOUT_MS);
    } catch (error) {
      await this.kill();
      throw new GatewayStartError(this.name, error instanceof Error ? error.message : String(error), this.log, await this.#logTail());
    }
  }

  /** SIGKILL, as a crash would; resolves once it is gone. */
  async kill(): Promise<void> {
    this.#child?.kill("SIGKILL");
    await this.#exited;
  }

  /** SIGTERM, then SIGKILL after a grace; resolves once it is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.#running()) return;
    child.kill("SIGTERM");
    const escalation = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(escalation);
  }

  #running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async #ready(child: ChildProcess): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new GiveUpWaiting(`exited (${child.signalCode ?? `exit code ${child.exitCode}`})`);
    }
    const res = await fetch(`${this.url}/readyz`);
    await res.body?.cancel();
    return res.status === 200;
  }

  async #logTail(): Promise<string> {
    const text = await readFile(this.log, "utf8").catch(() => "");
    return text.slice(-LOG_TAIL_CHARS);
  }
}
