import { fileURLToPath } from "node:url";
import { startGatewayProcess, type GatewayProcess } from "../../support/gateway-process.js";

const MEMORY_PROBE = fileURLToPath(new URL("./memory-probe.ts", import.meta.url));

export interface ChildGateway extends GatewayProcess {
  /**
   * Memory the process holds after a full GC (needs `memoryProbe: true`): heapUsed, external
   * (which includes arrayBuffers) and rss, in bytes, as process.memoryUsage() gives them.
   */
  retained(): Promise<{ heapUsed: number; external: number; arrayBuffers: number; rss: number }>;
}

/**
 * The gateway as a child process (test/support/gateway-process.ts) over an existing
 * nats-server, so its memory can be measured on its own; with `memoryProbe`, memory-probe.ts is
 * preloaded and node runs with --expose-gc. stop() waits 10 s before SIGKILL.
 */
export async function startChildGateway(
  natsUrl: string,
  env: NodeJS.ProcessEnv = {},
  options: { nodeArgs?: string[]; memoryProbe?: boolean } = {},
): Promise<ChildGateway> {
  const gateway = await startGatewayProcess(natsUrl, env, {
    nodeArgs: [...(options.nodeArgs ?? []), ...(options.memoryProbe ? ["--expose-gc"] : [])],
    imports: options.memoryProbe ? [MEMORY_PROBE] : [],
    stopTimeoutMs: 10_000,
  });
  const retained = async () => {
    const before = gateway.output().length;
    gateway.child.kill("SIGUSR2");
    const deadline = Date.now() + 10_000;
    for (;;) {
      const line = /\[memory-probe\] (\{.*\})\n/.exec(gateway.output().slice(before))?.[1];
      if (line) {
        const usage = JSON.parse(line) as { gc: boolean; heapUsed: number; external: number; arrayBuffers: number; rss: number };
        if (!usage.gc) throw new Error("the memory probe has no gc(): start the gateway with memoryProbe: true");
        return usage;
      }
      if (Date.now() > deadline) {
        throw new Error(`no answer from the memory probe (start the gateway with memoryProbe: true):\n${gateway.output().slice(before)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { ...gateway, retained };
}
