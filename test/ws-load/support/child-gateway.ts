import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GcDone, ProbeCall, ProbeReport } from "./ws-probe.js";

const PROBE = fileURLToPath(new URL("./ws-probe.ts", import.meta.url));

export interface ChildGateway {
  child: ChildProcess;
  /** The gateway's own node process. */
  pid: number;
  port: number;
  url: string;
  wsUrl: string;
  exited: Promise<number | null>;
  output(): string;
  /** Probe reports (only with `probe: true`), oldest first. */
  reports: ProbeReport[];
  /** Every close()/terminate() the gateway called on a WebSocket (only with `probe: true`). */
  calls: ProbeCall[];
  /**
   * Has the gateway run a full garbage collection (needs `probe` and nodeArgs ["--expose-gc"])
   * and answers its memory right after it.
   */
  collectGarbage(): Promise<NodeJS.MemoryUsage>;
  /** SIGTERM, then SIGKILL after timeoutMs; removes its data dir. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The gateway as a child process, what `npm start` runs (`node --import tsx src/cli/main.ts
 * serve`), over an existing nats-server. With `probe`, ws-probe.ts is preloaded and reports the
 * gateway's WebSockets over IPC. Resolves once /readyz answers 200.
 */
export async function startChildGateway(
  natsUrl: string,
  env: NodeJS.ProcessEnv = {},
  options: { probe?: boolean; nodeArgs?: string[] } = {},
): Promise<ChildGateway> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "streamgate-wsload-"));
  const args = [...(options.nodeArgs ?? []), "--import", "tsx", ...(options.probe ? ["--import", PROBE] : []), "src/cli/main.ts", "serve"];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      NATS_URL: natsUrl,
      STREAMGATE_DATA_DIR: dataDir,
      STREAMGATE_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe", ...(options.probe ? (["ipc"] as const) : [])],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  const reports: ProbeReport[] = [];
  const calls: ProbeCall[] = [];
  const gcWaiters = new Map<number, (m: GcDone) => void>();
  let gcId = 0;
  child.on("message", (m: ProbeReport | GcDone) => {
    if (m?.kind === "gc-done") gcWaiters.get(m.id)?.(m);
    if (m?.kind !== "ws-probe") return;
    reports.push(m);
    calls.push(...m.calls);
  });
  const collectGarbage = () =>
    new Promise<NodeJS.MemoryUsage>((resolve, reject) => {
      const id = ++gcId;
      const timer = setTimeout(() => reject(new Error("the gateway did not answer a gc request")), 5_000);
      gcWaiters.set(id, (m) => {
        clearTimeout(timer);
        gcWaiters.delete(id);
        if (m.collected) resolve(m.memory);
        else reject(new Error("the gateway runs without --expose-gc"));
      });
      child.send({ kind: "gc", id });
    });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (timeoutMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await fetch(url + "/readyz").then(
      (res) => res.status,
      () => undefined,
    );
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway did not become ready (exit code ${child.exitCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, pid: child.pid!, port, url, wsUrl: `ws://127.0.0.1:${port}/v1/ws`, exited, output: () => output, reports, calls, collectGarbage, stop };
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/**
 * Bytes the kernel holds for one loopback TCP connection, from /proc/net/tcp: what the
 * sender's socket has not had acknowledged (tx_queue) and what the receiver's socket holds
 * unread by its process (rx_queue).
 */
export function tcpQueues(localPort: number, remotePort: number): { txQueue: number; rxQueue: number } | undefined {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    if (f[1]!.endsWith(":" + hex(localPort)) && f[2]!.endsWith(":" + hex(remotePort))) {
      const [tx, rx] = f[4]!.split(":");
      return { txQueue: parseInt(tx!, 16), rxQueue: parseInt(rx!, 16) };
    }
  }
  return undefined;
}
