import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the parent saw the exit. */
  at: number;
}

export interface GatewayProcess {
  child: ChildProcess;
  /** The gateway's own node process (tsx is loaded with --import, so there is no wrapper). */
  pid: number;
  port: number;
  url: string;
  exited: Promise<ProcessExit>;
  output(): string;
  /** VmRSS of the gateway process, in bytes (Linux /proc). */
  rssBytes(): number;
  /** SIGTERM, then SIGKILL after timeoutMs; resolves when it is gone and its data dir removed. */
  stop(timeoutMs?: number): Promise<ProcessExit>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function rssBytesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/**
 * What `npm start` runs (`node --import tsx src/cli/main.ts serve`) as a child process over an
 * existing nats-server, with loopback receivers allowed. Resolves once /readyz answers 200.
 */
export async function startGatewayProcess(
  natsUrl: string,
  env: NodeJS.ProcessEnv = {},
  options: { /** Extra node flags, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */ nodeArgs?: string[] } = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "streamgate-whgw-"));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", "src/cli/main.ts", "serve"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      NATS_URL: natsUrl,
      STREAMGATE_DATA_DIR: dataDir,
      STREAMGATE_LOG_LEVEL: "warn",
      STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  const exited = new Promise<ProcessExit>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = `http://127.0.0.1:${port}`;

  const stop = async (timeoutMs = 15_000): Promise<ProcessExit> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      await rm(dataDir, { recursive: true, force: true });
      return exit;
    }
    await rm(dataDir, { recursive: true, force: true });
    return exited;
  };

  const deadline = Date.now() + 30_000;
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
    exited,
    output: () => output,
    rssBytes: () => rssBytesOf(child.pid!),
    stop,
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
