/**
 * A killed gateway's webhook deliveries taken over: for each delivery it held when it died,
 * how long after the kill another gateway sent the same event again.
 */
import { sleep, until } from "../support/wait.js";
import type { WebhookSink } from "./webhooks.js";

/** The offsets whose delivery one gateway holds, per webhook; only webhooks it holds one of. */
export type Held = Map<WebhookSink, number[]>;

/** A gateway and the deliveries it holds. */
export interface Holder {
  pid: number;
  held: Held;
}

function holding(sinks: readonly WebhookSink[], pid: number): Holder {
  const held: Held = new Map();
  for (const sink of sinks) {
    const offsets = sink.receiver.open().filter((r) => r.gatewayPid === pid).map((r) => r.offset);
    if (offsets.length > 0) held.set(sink, offsets);
  }
  return { pid, held };
}

/**
 * The gateway to kill, caught holding deliveries: of every webhook, if one does so within
 * timeoutMs. A webhook's deliveries may stay with one gateway, so after that, of as many
 * webhooks as any gateway was seen holding at once (at least one), within timeoutMs more.
 */
export async function busiestGateway(sinks: readonly WebhookSink[], pids: () => number[], timeoutMs: number): Promise<Holder> {
  let most = 0;
  const holdingAtLeast = (count: number): Holder | undefined => {
    for (const pid of pids()) {
      const now = holding(sinks, pid);
      most = Math.max(most, now.held.size);
      if (now.held.size >= count) return now;
    }
    return undefined;
  };
  const poll = async (count: () => number, deadline: number): Promise<Holder | undefined> => {
    for (;;) {
      const found = holdingAtLeast(count());
      if (found || Date.now() > deadline) return found;
      await sleep(5);
    }
  };
  const started = Date.now();
  const found = (await poll(() => sinks.length, started + timeoutMs)) ?? (await poll(() => Math.max(1, most), started + 2 * timeoutMs));
  if (!found) throw new Error(`no gateway was seen holding a webhook delivery within ${2 * timeoutMs} ms`);
  return found;
}

/** Per webhook, ms from `killedAt` until another gateway had sent again every delivery `held`. */
export async function takeoverTimes(held: Held, killedPid: number, killedAt: number, timeoutMs: number): Promise<Record<string, number>> {
  const again = (sink: WebhookSink, offset: number) =>
    sink.requests.find((r) => r.offset === offset && r.at >= killedAt && r.gatewayPid !== killedPid);
  const takenOver = () => [...held].every(([sink, offsets]) => offsets.every((o) => again(sink, o) !== undefined));
  await until(takenOver, "every held delivery sent again by another gateway", timeoutMs, () =>
    [...held].map(([sink, offsets]) => `${sink.log.name}: ${offsets.map((o) => `${o} ${again(sink, o) ? "sent again" : "not yet"}`).join(", ")}`).join("; "),
  );
  return Object.fromEntries([...held].map(([sink, offsets]) => [sink.log.name, Math.max(...offsets.map((o) => again(sink, o)!.at - killedAt))]));
}
