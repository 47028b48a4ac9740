/** The gateway as users run it: the built package, `node bin/streamgate.js serve`, in its own process. */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pickFreePort } from "../../src/backbone/nats-server.js";
import { watch } from "./proc.js";
import type { Scope } from "./scope.js";
import { builtNodeOptions, hasExited, REPO_DIR, stopChild } from "./spawn.js";
import type { GatewayHandle } from "./types.js";

const READY_TIMEOUT_MS = 30_000;
const OUTPUT_KEPT = 4_000;

/** Every client of the bench comes from 127.0.0.1, which the per-address limits would count as one. */
const BENCH_LIMITS = {
  STREAMGATE_LIMIT_CONNECTIONS_PER_CREDENTIAL: "1000000",
  STREAMGATE_LIMIT_CONNECTIONS_TOTAL: "1000000",
  STREAMGATE_LIMIT_PUBLISHES_PER_SECOND: "1000000",
  STREAMGATE_LIMIT_LONG_POLLS_PER_CREDENTIAL: "1000000",
};

export async function startGateway(natsUrl: string, env: Record<string, string>, scope: Scope): Promise<GatewayHandle> {
  const port = await pickFreePort("127.0.0.1");
  const dataDir = await mkdtemp(join(tmpdir(), "streamgate-bench-gw-"));
  const child = spawn(process.execPath, ["bin/streamgate.js", "serve"], {
    cwd: REPO_DIR,
    env: {
      ...process.env,
      NODE_OPTIONS: builtNodeOptions(),
      NATS_URL: natsUrl,
      HOST: "127.0.0.1",
      PORT: String(port),
      STREAMGATE_DATA_DIR: dataDir,
      STREAMGATE_LOG_LEVEL: "warn",
      ...BENCH_LIMITS,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = scope.add(() => stopChild(child, "SIGTERM").finally(() => rm(dataDir, { recursive: true, force: true })));
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_KEPT));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await fetch(`${url}/readyz`).then((res) => res.status, () => 0)) !== 200) {
    if (hasExited(child) || Date.now() > deadline) {
      throw new Error(`the gateway did not become ready in ${READY_TIMEOUT_MS / 1000} s (exit ${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { ...watch(child.pid!), url, stop };
}
