import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startGatewayProcess, type GatewayProcess } from "../../support/gateway-process.js";
import type { GcDone, ProbeCall, ProbeReport } from "./ws-probe.js";

const PROBE = fileURLToPath(new URL("./ws-probe.ts", import.meta.url));

export interface ChildGateway extends GatewayProcess {
  /** Probe reports (only with `probe: true`), oldest first. */
  reports: ProbeReport[];
  /** Every close()/terminate() the gateway called on a WebSocket (only with `probe: true`). */
  calls: ProbeCall[];
  /**
   * Has the gateway run a full garbage collection (needs `probe` and nodeArgs ["--expose-gc"])
   * and answers its memory right after it.
   */
  collectGarbage(): Promise<NodeJS.MemoryUsage>;
}

/**
 * The gateway as a child process (test/support/gateway-process.ts) over an existing
 * nats-server. With `probe`, ws-probe.ts is preloaded and reports the gateway's WebSockets over
 * IPC. stop() waits 10 s before SIGKILL.
 */
export async function startChildGateway(
  natsUrl: string,
  env: NodeJS.ProcessEnv = {},
  options: { probe?: boolean; nodeArgs?: string[] } = {},
): Promise<ChildGateway> {
  const reports: ProbeReport[] = [];
  const calls: ProbeCall[] = [];
  const gcWaiters = new Map<number, (m: GcDone) => void>();
  let gcId = 0;
  const gateway = await startGatewayProcess(natsUrl, env, {
    nodeArgs: options.nodeArgs,
    imports: options.probe ? [PROBE] : [],
    ipc: options.probe,
    stopTimeoutMs: 10_000,
    onSpawn: (child) =>
      child.on("message", (m: ProbeReport | GcDone) => {
        if (m?.kind === "gc-done") gcWaiters.get(m.id)?.(m);
        if (m?.kind !== "ws-probe") return;
        reports.push(m);
        calls.push(...m.calls);
      }),
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
      gateway.child.send({ kind: "gc", id });
    });
  return { ...gateway, reports, calls, collectGarbage };
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
