import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/config.js";
import { runGateway, type RunningGateway } from "../../src/app.js";
import { client, type Client } from "./http.js";

/** What a gateway on a test cluster is started with; env adds to its configuration. */
export function clusterGatewayEnv(natsUrl: string, descriptorSet: string, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    NATS_URL: natsUrl,
    PORT: "0",
    STREAMGATE_LOG_LEVEL: "warn",
    STREAMGATE_DESCRIPTOR_SET: descriptorSet,
    STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8",
    ...env,
  };
}

/** A gateway in this process on the cluster at natsUrl, serving the schemas of descriptorSet, and a client of its API. */
export async function startClusterGateway(
  natsUrl: string,
  descriptorSet: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ gateway: RunningGateway; api: Client }> {
  const gateway = await runGateway(loadConfig(clusterGatewayEnv(natsUrl, descriptorSet, env)));
  return { gateway, api: client(`http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`) };
}
