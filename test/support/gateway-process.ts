import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listenToProbes, needsIpc, probeNodeArgs, type ProbeOptions, type Probes } from "./gateway-probes.js";

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the parent saw the exit. */
  at: number;
}

export interface GatewayProcess extends Probes {
  child: ChildProcess;
  /** The gateway's own node process (tsx is loaded with --import, so there is no wrapper). */
  pid: number;
  port: number;
  url: string;
  /** The WebSocket endpoint, ws://127.0.0.1:<port>/v1/ws. */
  wsUrl: string;
  exited: Promise<ProcessExit>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** VmRSS of the gateway process, in bytes (Linux /proc). */
  rssBytes(): number;
  /**
   * SIGTERM, then SIGKILL after timeoutMs (default: the stopTimeoutMs it was started with);
   * resolves when it is gone and its temporary data dir removed.
   */
  stop(timeoutMs?: number): Promise<ProcessExit>;
}

export interface GatewayProcessOptions {
  /** Node flags ahead of `--import tsx`, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** Test probes preloaded into the gateway (see gateway-probes.ts). */
  probes?: ProbeOptions;
  /** Runs on this data dir and leaves it in place; by default on a fresh temporary one that stop() removes. */
  dataDir?: string;
  /** How long /readyz may take to answer 200 (default 30 s). */
  readyTimeoutMs?: number;
  /** stop()'s default grace between SIGTERM and SIGKILL (default 15 s). */
  stopTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/**
 * What `npm start` runs (`node --import tsx src/cli/main.ts serve`) as a child process, over the
 * nats-server at natsUrl (undefined: NATS_URL unset, so the gateway embeds its own), on
 * 127.0.0.1, logging at warn, with loopback webhook receivers allowed. `env` is laid over that;
 * a variable given as undefined is unset. Resolves once /readyz answers 200.
 */
export async function startGatewayProcess(
  natsUrl: string | undefined,
  env: NodeJS.ProcessEnv = {},
  options: GatewayProcessOptions = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "streamgate-gw-")));
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    NATS_URL: natsUrl,
    STREAMGATE_DATA_DIR: dataDir,
    STREAMGATE_LOG_LEVEL: "warn",
    STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8",
    ...env,
  };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const probeOptions = options.probes ?? {};
  const args = [...(options.nodeArgs ?? []), "--import", "tsx", ...probeNodeArgs(probeOptions), "src/cli/main.ts", "serve"];
  const stdio: StdioOptions = ["ignore", "pipe", "pipe", ...(needsIpc(probeOptions) ? (["ipc"] as const) : [])];
  const child = spawn(process.execPath, args, { env: childEnv, stdio });
  const probes = listenToProbes(child, probeOptions);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  const exited = new Promise<ProcessExit>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = `http://127.0.0.1:${port}`;
  const removeDataDir = () => (ownDataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve());

  const stop = async (timeoutMs = options.stopTimeoutMs ?? 15_000): Promise<ProcessExit> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      await removeDataDir();
      return exit;
    }
    await removeDataDir();
    return exited;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const status = await fetch(url + "/readyz").then(
      (res) => res.status,
      () => undefined,
    );
    if (status === 200) break;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop(1_000);
      throw new Error(`the gateway did not become ready (exit code ${child.exitCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    pid: child.pid!,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    exited,
    output: () => output,
    rssBytes: () => rssBytesOf(child.pid!),
    stop,
    ...probes,
  };
}

export interface CreatedWebhook {
  id: string;
  secret: string;
  maxInFlight: number;
  timeoutMs: number;
}

/** POST /v1/webhooks; throws with the answer on anything but 201. */
export async function createWebhook(gatewayUrl: string, body: Record<string, unknown>): Promise<CreatedWebhook> {
  const res = await fetch(gatewayUrl + "/v1/webhooks", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/webhooks answered ${res.status}: ${text}`);
  return JSON.parse(text) as CreatedWebhook;
}

export async function getWebhook(gatewayUrl: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${gatewayUrl}/v1/webhooks/${id}`);
  if (res.status !== 200) throw new Error(`GET /v1/webhooks/${id} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}
