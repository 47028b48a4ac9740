/** Gateways' /readyz, asked directly (bypassing the balancer), until every one answers as wanted. */
import { eventually } from "../support/wait.js";
import type { GatewayAddress } from "./spread.js";

async function readyz(gateway: GatewayAddress): Promise<number | undefined> {
  return fetch(`${gateway.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
    (res) => res.status,
    () => undefined,
  );
}

/** Resolves, with how long it took, once every gateway's /readyz answers `status`. */
export async function untilEveryReadyz(gateways: readonly GatewayAddress[], status: 200 | 503, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await eventually(() => Promise.all(gateways.map(readyz)), (answers) => answers.every((a) => a === status), `every gateway's /readyz ${status}`, timeoutMs);
  return Date.now() - started;
}
