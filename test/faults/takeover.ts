/**
 * A killed gateway's webhook deliveries taken over: for each delivery it held when it died,
 * how long after the kill another gateway sent the same event again.
 */
import { sleep, until } from "../support/wait.js";
import type { ReceivedRequest } from "../support/webhook-receiver.js";
import type { WebhookSink } from "./webhooks.js";

/** The requests one gateway has open, per webhook; only webhooks it holds one of. */
export type Held = Map<WebhookSink, ReceivedRequest[]>;

/** A gateway and the deliveries it holds. */
export interface Holder {
  pid: number;
  held: Held;
}

function holding(sinks: readonly WebhookSink[], pid: number): Holder {
  const held: Held = new Map();
  for (const sink of sinks) {
    const open = sink.receiver.open().filter((r) => r.gatewayPid === pid);
    if (open.length > 0) held.set(sink, open);
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

/**
 * The deliveries the killed gateway never saw answered: once each held request's connection
 * has closed, those cut off before their answer was complete. One answered just before the
 * kill may have been acknowledged, so nothing need take it over.
 */
export async function strandedBy(held: Held, timeoutMs: number): Promise<Map<WebhookSink, number[]>> {
  const requests = [...held.values()].flat();
  await until(() => requests.every((r) => r.endT !== undefined), "the killed gateway's connections closed", timeoutMs);
  const stranded = new Map<WebhookSink, number[]>();
  for (const [sink, open] of held) {
    const cut = open.filter((r) => r.aborted).map((r) => r.offset);
    if (cut.length > 0) stranded.set(sink, cut);
  }
  return stranded;
}

/**
 * Per webhook, ms from `killedAt` until another gateway had sent again every stranded delivery;
 * undefined for a webhook where that did not happen within timeoutMs.
 */
export async function takeoverTimes(
  stranded: Map<WebhookSink, number[]>,
  killedPid: number,
  killedAt: number,
  timeoutMs: number,
): Promise<Record<string, number | undefined>> {
  const again = (sink: WebhookSink, offset: number) => sink.requests.find((r) => r.offset === offset && r.at >= killedAt && r.gatewayPid !== killedPid);
  const takenOver = ([sink, offsets]: [WebhookSink, number[]]) => offsets.every((o) => again(sink, o) !== undefined);
  const deadline = killedAt + timeoutMs;
  while (![...stranded].every(takenOver) && Date.now() < deadline) await sleep(10);
  return Object.fromEntries(
    [...stranded].map((entry) => [entry[0].log.name, takenOver(entry) ? Math.max(...entry[1].map((o) => again(entry[0], o)!.at - killedAt)) : undefined]),
  );
}
