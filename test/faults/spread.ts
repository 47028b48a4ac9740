/**
 * Readers through the load balancer land where it sends them; each gateway's
 * streamgate_open_connections says how many WebSockets and SSE responses it holds, so readers
 * are added until every gateway holds at least one of each kind.
 */
import { eventually } from "../support/wait.js";

export interface GatewayAddress {
  name: string;
  /** Its own address, bypassing the balancer. */
  url: string;
}

/** Readers of one kind opened at most, per gateway, before giving up on spreading them. */
const MOST_PER_GATEWAY = 4;

export async function openConnections(gateway: GatewayAddress, protocol: "ws" | "sse"): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = new RegExp(`^streamgate_open_connections\\{protocol="${protocol}"\\} (\\d+)$`, "m").exec(text);
  if (!line) throw new Error(`${gateway.name}'s /metrics has no streamgate_open_connections for ${protocol}`);
  return Number(line[1]);
}

/**
 * Opens readers with `open` (each one more connection through the balancer) until every gateway
 * holds one more connection of `protocol` than it held before.
 */
export async function spreadReaders(gateways: readonly GatewayAddress[], protocol: "ws" | "sse", open: () => void): Promise<void> {
  const counts = () => Promise.all(gateways.map((g) => openConnections(g, protocol)));
  const before = await counts();
  const added = (now: number[]) => now.map((n, i) => n - before[i]!);
  for (let opened = 1; ; opened++) {
    open();
    // Wait until the gateways count every reader opened so far, wherever it landed.
    const now = await eventually(counts, (n) => added(n).reduce((a, b) => a + b, 0) >= opened, `${opened} ${protocol} readers connected`, 15_000);
    if (added(now).every((n) => n >= 1)) return;
    if (opened >= MOST_PER_GATEWAY * gateways.length) {
      throw new Error(`${opened} ${protocol} readers through the balancer did not reach every gateway: ${gateways.map((g, i) => `${g.name} ${added(now)[i]}`).join(", ")}`);
    }
  }
}
