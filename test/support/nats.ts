import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type RunningNatsServer } from "../../src/backbone/nats-server.js";

export type TestNats = {
  url: string;
  port: number;
  storeDir: string;
  /** The running nats-server's pid (a new one after restart() or up()). */
  readonly pid: number;
  /** Stops the server and starts it again on the same port and store dir; JetStream data survives. */
  restart(): Promise<void>;
  /** Stops the server, keeping its port and store dir for up(). */
  down(): Promise<void>;
  /** Starts a server stopped by down() again. */
  up(): Promise<void>;
  /** Stops the server and deletes its store dir. */
  stop(): Promise<void>;
};

export async function startTestNats(): Promise<TestNats> {
  const storeDir = await mkdtemp(join(tmpdir(), "streamgate-test-nats-"));
  let server: RunningNatsServer;
  try {
    server = await startNatsServer({ storeDir });
  } catch (error) {
    await rm(storeDir, { recursive: true, force: true });
    throw error;
  }
  const { url, port } = server;

  return {
    url,
    port,
    storeDir,
    get pid() {
      return server.pid;
    },
    async restart() {
      await server.stop();
      server = await startNatsServer({ storeDir, port });
    },
    async down() {
      await server.stop();
    },
    async up() {
      server = await startNatsServer({ storeDir, port });
    },
    async stop() {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
