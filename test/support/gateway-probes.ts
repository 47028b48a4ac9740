/**
 * The parent's side of the probes a child gateway can be started with (see ws-probe.ts and
 * gc-probe.ts, preloaded into it): what they report over the IPC channel, and asking for a GC.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { GcDone, GcRequest } from "./gc-probe.js";
import type { ProbeCall, ProbeReport } from "./ws-probe.js";

export interface ProbeOptions {
  /** Preload ws-probe.ts: `reports` and `calls` fill with what the gateway does with its WebSockets. */
  webSockets?: boolean;
  /** Run with --expose-gc and preload gc-probe.ts, for collectGarbage(). */
  gc?: boolean;
}

export interface Probes {
  /** ws-probe reports, oldest first (only with `webSockets`). */
  reports: ProbeReport[];
  /** Every close()/terminate() the gateway called on a WebSocket (only with `webSockets`). */
  calls: ProbeCall[];
  /** Has the gateway run a full garbage collection (needs `gc`) and answers its memory right after. */
  collectGarbage(): Promise<NodeJS.MemoryUsage>;
}

const WS_PROBE = fileURLToPath(new URL("./ws-probe.ts", import.meta.url));
const GC_PROBE = fileURLToPath(new URL("./gc-probe.ts", import.meta.url));

/** Node flags that load the probes (after `--import tsx`, since they are TypeScript). */
export function probeNodeArgs(options: ProbeOptions): string[] {
  return [
    ...(options.gc ? ["--expose-gc", "--import", GC_PROBE] : []),
    ...(options.webSockets ? ["--import", WS_PROBE] : []),
  ];
}

export const needsIpc = (options: ProbeOptions) => Boolean(options.webSockets || options.gc);

/** Listens to the child's probes; call right after the spawn, so no report is missed. */
export function listenToProbes(child: ChildProcess, options: ProbeOptions): Probes {
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
      if (!options.gc) return reject(new Error("start the gateway with probes: { gc: true } to collect its garbage"));
      const id = ++gcId;
      const timer = setTimeout(() => reject(new Error("the gateway did not answer a gc request within 5 s")), 5_000);
      gcWaiters.set(id, (m) => {
        clearTimeout(timer);
        gcWaiters.delete(id);
        if (m.collected) resolve(m.memory);
        else reject(new Error("the gateway runs without --expose-gc"));
      });
      const request: GcRequest = { kind: "gc", id };
      child.send(request);
    });
  return { reports, calls, collectGarbage };
}
