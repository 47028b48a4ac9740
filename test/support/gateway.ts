import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/config.js";
import { runGateway, type RunningGateway } from "../../src/app.js";
import { client, type Client } from "./http.js";
import { startTestNats, type TestNats } from "./nats.js";

export interface TestGateway {
  url: string;
  /** An HTTP client bound to `url`. */
  api: Client;
  gateway: RunningGateway;
  nats: TestNats;
  close(): Promise<void>;
}

/** An in-process gateway on a free port over its own real nats-server. */
export async function startTestGateway(env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  const nats = await startTestNats();
  const config = loadConfig({ NATS_URL: nats.url, PORT: "0", STREAMGATE_LOG_LEVEL: "warn", ...env });
  const gateway = await runGateway(config);
  const { port } = gateway.app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    api: client(url),
    gateway,
    nats,
    async close() {
      await gateway.stop();
      await nats.stop();
    },
  };
}
