import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ChildGateway {
  child: ChildProcess;
  /** The gateway's own node process (what `node --import tsx src/cli/main.ts serve` runs in). */
  pid: number;
  url: string;
  exited: Promise<number | null>;
  output(): string;
  /**
   * Memory the process holds after a full GC (needs `memoryProbe: true`): heapUsed, external
   * (which includes arrayBuffers) and rss, in bytes, as process.memoryUsage() gives them.
   */
  retained(): Promise<{ heapUsed: number; external: number; arrayBuffers: number; rss: number }>;
  /** SIGTERM, then SIGKILL if it has not exited within timeoutMs; removes its data dir. */
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
 * The gateway as a child process (what `npm start` runs) over an existing nats-server, so its
 * memory can be measured on its own. Resolves once /readyz answers 200.
 */
export async function startChildGateway(
  natsUrl: string,
  env: NodeJS.ProcessEnv = {},
  options: { nodeArgs?: string[]; memoryProbe?: boolean } = {},
): Promise<ChildGateway> {
  const nodeArgs = [...(options.nodeArgs ?? [])];
  if (options.memoryProbe) nodeArgs.push("--expose-gc", "--import", fileURLToPath(new URL("./memory-probe.ts", import.meta.url)));
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "streamgate-child-"));
  const child = spawn(process.execPath, ["--import", "tsx", ...nodeArgs, "src/cli/main.ts", "serve"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      NATS_URL: natsUrl,
      STREAMGATE_DATA_DIR: dataDir,
      STREAMGATE_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
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
  const retained = async () => {
    const before = output.length;
    child.kill("SIGUSR2");
    const deadline = Date.now() + 10_000;
    for (;;) {
      const line = /\[memory-probe\] (\{.*\})\n/.exec(output.slice(before))?.[1];
      if (line) {
        const usage = JSON.parse(line) as { gc: boolean; heapUsed: number; external: number; arrayBuffers: number; rss: number };
        if (!usage.gc) throw new Error("the memory probe has no gc(): start the gateway with memoryProbe: true");
        return usage;
      }
      if (Date.now() > deadline) throw new Error(`no answer from the memory probe (start the gateway with memoryProbe: true):\n${output.slice(before)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, pid: child.pid!, url, exited, output: () => output, retained, stop };
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}
