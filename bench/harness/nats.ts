/** A fresh nats-server with JetStream (and, on request, its own WebSocket listener) for one repetition. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pickFreePort, startNatsServer } from "../../src/backbone/nats-server.js";
import { watch } from "./proc.js";
import type { Scope } from "./scope.js";
import type { NatsServerHandle } from "./types.js";

export async function startNats(options: { websocket?: boolean }, scope: Scope): Promise<NatsServerHandle> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-bench-nats-"));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  scope.add(removeDir);
  const args: string[] = [];
  let wsUrl: string | undefined;
  if (options.websocket) {
    const wsPort = await pickFreePort("127.0.0.1");
    const config = join(dir, "nats.conf");
    await writeFile(config, `websocket { host: "127.0.0.1", port: ${wsPort}, no_tls: true }\n`);
    args.push("-c", config);
    wsUrl = `ws://127.0.0.1:${wsPort}`;
  }
  const server = await startNatsServer({ storeDir: join(dir, "store"), args });
  const stop = scope.add(() => server.stop().finally(removeDir));
  return { ...watch(server.pid), url: server.url, stop, ...(wsUrl ? { wsUrl } : {}) };
}
