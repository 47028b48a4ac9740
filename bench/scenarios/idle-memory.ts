/**
 * Idle connections: (RSS with N idle connections − RSS before) / N, after a settle, for the
 * gateway's WebSocket (one subscription each) and SSE against the ceilings of the same protocol.
 * N = 10k and 18k (quick: 1k). A warm-up of a few connections, closed again, runs before the
 * first reading, so code loaded on first use is not counted as per-connection memory.
 */
import type { FanoutSystem } from "../harness/fanout.js";
import { measurements } from "../harness/results.js";
import { settledRss } from "../harness/settle.js";
import { startSubscribers } from "../harness/subscribers.js";
import { ceiling, streamgate } from "../harness/systems.js";
import type { BenchContext, Measurement, Scenario } from "../harness/types.js";

const CONNECTIONS_PER_PROCESS = 2_500;
const WARM_UP_CONNECTIONS = 50;

interface IdleResult {
  kilobytesPerConnection: number;
  lost: number;
  repeated: number;
}

async function idleCost(ctx: BenchContext, system: FanoutSystem, protocol: string, connections: number): Promise<IdleResult> {
  const started = await system.start(ctx);
  // No events are published: the stream is empty, so its first event will be offset 1.
  const args = { target: started.target(1), first: 1 };
  const warmUp = await startSubscribers(ctx, { ...args, count: WARM_UP_CONNECTIONS }, 1);
  await warmUp.stop();
  const settleMs = ctx.quick ? 5_000 : 15_000;
  const before = await settledRss(started.server, settleMs);
  const idle = await startSubscribers(ctx, { ...args, count: connections }, Math.ceil(connections / CONNECTIONS_PER_PROCESS));
  const after = await settledRss(started.server, settleMs);
  const { lost, repeated } = await idle.stop();
  await started.stop();
  const kilobytesPerConnection = (after - before) / connections / 1024;
  ctx.log(`idle-memory ${protocol} ${system.name}: ${connections} connections, RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB, ${kilobytesPerConnection.toFixed(2)} KB each`);
  return { kilobytesPerConnection, lost, repeated };
}

export const idleMemory: Scenario = {
  name: "idle-memory",
  async run(ctx) {
    const rows: Measurement[] = [];
    for (const connections of ctx.quick ? [1_000] : [10_000, 18_000]) {
      for (const protocol of ["ws", "sse"] as const) {
        const results: Record<string, IdleResult> = {};
        for (const system of [streamgate(protocol), ceiling(protocol)]) results[system.name] = await idleCost(ctx, system, protocol, connections);
        rows.push(
          ...measurements("idle-memory", results, [
            {
              metric: `${protocol.toUpperCase()} KB/connection at ${connections / 1000}k (RSS)`,
              higherIsBetter: false,
              value: (result) => result.kilobytesPerConnection,
              target: { absolute: 8 },
            },
          ]),
        );
      }
    }
    return rows;
  },
};
