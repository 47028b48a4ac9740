/**
 * Load module: `count` subscribers of one protocol, each checking its sequence (in order, no
 * gap, no duplicate) and timing every event from the publish time it carries.
 *
 *   first message: { ready: count }                  once every subscriber is connected
 *   { op: "await", last, timeoutMs } → AwaitResult   waits until every subscriber has `last`
 *   { op: "stop" }                   → report SubscribersReport
 */
import { LatencyHistogram, type HistogramCounts } from "../harness/histogram.js";
import { loadMain } from "../harness/load-main.js";
import { connectNatsWs } from "./clients/nats-ws.js";
import { connectSse } from "./clients/sse.js";
import type { Connect, Subscriber, SubscriberTarget } from "./clients/types.js";
import { connectWs } from "./clients/ws.js";
import { microsOfRfc3339, nowMicros } from "./publish-time.js";
import { SequenceCheck } from "./sequence.js";

export interface SubscribersArgs {
  target: SubscriberTarget;
  count: number;
  /** The sequence number (offset) of the first event every subscriber must receive. */
  first: number;
}

export type SubscribersCommand = { op: "await"; last: number; timeoutMs: number } | { op: "stop" };

export interface AwaitResult {
  /** Subscribers that have received `last`. */
  reached: number;
  /** Wall clock ms of the last delivery, when every subscriber reached `last`. */
  completedAt: number | null;
  /** Events up to `last` missing, over all subscribers (still to come, or skipped). */
  behind: number;
  repeated: number;
  /** Publish-to-receive latencies of the events received since the previous await. */
  latency: HistogramCounts;
}

export interface SubscribersReport {
  lost: number;
  repeated: number;
  /** Connections that ended before the stop, and why (the first few). */
  dropped: string[];
}

const CONNECTS_IN_FLIGHT = 64;
const CONNECTORS: Record<SubscriberTarget["protocol"], Connect> = { ws: connectWs, sse: connectSse, "nats-ws": connectNatsWs };

loadMain<SubscribersArgs, SubscribersReport>(async ({ target, count, first }, parent) => {
  const checks = Array.from({ length: count }, () => new SequenceCheck(first));
  const dropped: string[] = [];
  let latency = new LatencyHistogram();
  let lastEventAt = 0;
  // The await in progress: how many subscribers have reached its `last`.
  let goal = { last: Number.POSITIVE_INFINITY, reached: 0, onComplete: () => {} };

  const connect = CONNECTORS[target.protocol];
  const subscribers: Subscriber[] = [];
  for (let start = 0; start < count; start += CONNECTS_IN_FLIGHT) {
    const batch = checks.slice(start, start + CONNECTS_IN_FLIGHT).map((check) =>
      connect(target, {
        onEvent: (sequence, createdAt) => {
          const received = nowMicros();
          lastEventAt = received / 1000;
          latency.record(received - microsOfRfc3339(createdAt));
          const before = check.next;
          check.see(sequence);
          if (before <= goal.last && check.next > goal.last && ++goal.reached === count) goal.onComplete();
        },
        onLost: (why) => {
          if (dropped.length < 5) dropped.push(why);
        },
      }),
    );
    subscribers.push(...(await Promise.all(batch)));
  }
  parent.send({ ready: count });

  const lostUpTo = (last: number) => checks.reduce((sum, check) => sum + check.lost(last), 0);
  const repeated = () => checks.reduce((sum, check) => sum + check.repeated, 0);
  let last = first - 1;
  for (let command = await parent.next<SubscribersCommand>(); command.op === "await"; command = await parent.next<SubscribersCommand>()) {
    last = command.last;
    const complete = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), command.timeoutMs);
      goal = {
        last: command.last,
        reached: checks.filter((check) => check.next > command.last).length,
        onComplete: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      if (goal.reached === count) goal.onComplete();
    });
    const completed = await complete;
    parent.send({
      reached: goal.reached,
      completedAt: completed ? lastEventAt : null,
      behind: lostUpTo(command.last),
      repeated: repeated(),
      latency: latency.counts,
    } satisfies AwaitResult);
    latency = new LatencyHistogram();
  }
  for (const subscriber of subscribers) subscriber.close();
  return { lost: lostUpTo(last), repeated: repeated(), dropped };
});
