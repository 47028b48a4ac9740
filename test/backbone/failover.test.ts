/**
 * Failover under load (issue 13, build item 3): two gateways on a three-node cluster with R3
 * streams, long-poll, short-poll, SSE and WebSocket readers and a publisher on each, while the
 * orders stream's leader is killed with SIGKILL again and again, then the whole cluster is
 * restarted. Every reader must end with every event exactly once and in order, no client may
 * ever be answered 500, a publish is stored or refused with 503 + Retry-After, no event id is
 * stored twice, and no reader waits more than 10 s for the next event after a leader kill.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliverPolicy } from "@nats-io/jetstream";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { HEADER_ID } from "../../src/backbone/subjects.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { writeReplicatedSchemas } from "../support/replicated-schemas.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { startLoad, type ClientRecord, type Load, type ReaderRecord } from "../support/failover-load.js";
import { leaderOf, newLeader, placedAt, streamInfoWhen } from "../support/stream-info.js";
import { until } from "../support/wait.js";
import { publishOrders } from "../support/publish-orders.js";

const LEADER_KILLS = 3;
/** The longest a reader may wait for its next event after a leader kill. */
const MAX_STALL_MS = 10_000;
/** Stored before the readers start, and read again and again from JetStream by the replay readers. */
const BACKLOG = 5_000;

let cluster: TestCluster;
let schemas: Awaited<ReturnType<typeof writeReplicatedSchemas>>;
let backbone: Backbone;
let gateways: GatewayProcess[] = [];
let load: Load | undefined;

beforeAll(async () => {
  cluster = await startTestCluster(3);
  schemas = await writeReplicatedSchemas(3);
  backbone = await connectBackbone(cluster.url, "failover-test");
  // One after the other: the first provisions the streams, the second finds them made.
  for (let i = 0; i < 2; i++) gateways.push(await startGatewayProcess(cluster.url, { STREAMGATE_DESCRIPTOR_SET: schemas.path }));
}, 90_000);
afterAll(async () => {
  await load?.stop();
  await Promise.all(gateways.map((g) => g.stop()));
  await backbone?.nc.close();
  await cluster?.stop();
  await schemas?.remove();
});

interface Phase {
  name: string;
  from: number;
  to: number;
}

describe("failover on a three-node cluster, under load", () => {
  it("loses, repeats and reorders nothing, never answers 500, and stalls no reader past 10 s", async () => {
    const jsm = backbone.jsm;
    const lastOffset = async () => (await streamInfoWhen(jsm, "orders", () => true, 60_000)).state.last_seq;
    await publishOrders(backbone, BACKLOG, { prefix: "backlog" });
    load = startLoad(gateways.map((g) => g.url), BACKLOG);
    const { readers, publishers } = load;
    /** Every reader has read beyond `offset`, so the cluster serves again all the way to the clients. */
    /**
     * Every live reader has read beyond `offset`, and every replay reader 100 more events: the
     * cluster serves again all the way to the clients.
     */
    const readersPast = (offset: number, what: string) => {
      const counts = readers.map((r) => r.offsets.length);
      const past = (r: ReaderRecord, i: number) => (r.name.startsWith("replay") ? r.offsets.length >= counts[i]! + 100 : (r.offsets.at(-1) ?? 0) > offset);
      return until(() => readers.every(past), what, 60_000, () => readers.map((r) => `${r.name} at ${r.offsets.at(-1)}`).join(", "));
    };
    await readersPast(10, "every reader's first events");

    const phases: Phase[] = [];
    const reportOf = (last: number) => readers.map((r) => ({ ...verdict(r, last), stalls: phases.map((p) => longestGap(r, p)) }));
    let last = 0;
    try {
      for (let kill = 1; kill <= LEADER_KILLS; kill++) {
        const from = Date.now();
        const leader = await leaderOf(jsm, "orders");
        const node = cluster.nodes.find((n) => n.name === leader)!;
        await node.kill();
        await newLeader(jsm, "orders", leader);
        // Events stored after the election, read by every reader on either gateway.
        await readersPast((await lastOffset()) + 10, `every reader after leader kill ${kill}`);
        await node.start();
        await streamInfoWhen(jsm, "orders", placedAt(3));
        phases.push({ name: `leader kill ${kill}`, from, to: Date.now() });
      }
      const restartFrom = Date.now();
      await cluster.restart();
      await readersPast((await lastOffset()) + 10, "every reader after the cluster restart");
      phases.push({ name: "cluster restart", from: restartFrom, to: Date.now() });

      await load.stopPublishing();
      last = await lastOffset();
      await until(() => readers.every((r) => r.name.startsWith("replay") || (r.offsets.at(-1) ?? 0) >= last), "every reader at the end of the stream", 60_000);
    } finally {
      await load.stop();
      last ||= await lastOffset();
      printReport(reportOf(last), phases, publishers, gateways);
    }
    const report = reportOf(last);
    const storedIds = await idsInStream(last);

    // No event id stored twice, and every publish acknowledged is in the stream under its offset.
    expect(storedIds.length, "offsets in the stream").toBe(last);
    expect(duplicatesOf(storedIds), "event ids stored twice").toEqual([]);
    for (const p of publishers) for (const [id, offset] of p.stored) expect(storedIds[offset - 1], `${p.name}: ${id} at ${offset}`).toBe(id);
    for (const r of report) {
      expect({ lost: r.lost, duplicated: r.duplicated, outOfOrder: r.outOfOrder }, r.name).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
    }
    const clients: ClientRecord[] = [...readers, ...publishers];
    const refusedBadly = clients.flatMap((c) =>
      c.refusals.filter((x) => x.status !== 503 || !/^[1-9]\d*$/.test(x.retryAfter ?? "")).map((x) => `${c.name}: ${x.status} ${x.retryAfter} ${x.body}`),
    );
    expect(refusedBadly, "answers other than 503 with Retry-After").toEqual([]);
    for (const r of report) {
      r.stalls.slice(0, LEADER_KILLS).forEach((stall, i) => expect(stall, `${r.name}: longest wait for an event in ${phases[i]!.name}`).toBeLessThanOrEqual(MAX_STALL_MS));
    }
  }, 240_000);
});

/**
 * What a reader ended with, against the stream's 1..last; a replay reader's offsets are passes
 * over 1..BACKLOG, each checked the same way (its last pass only up to where it stopped).
 */
function verdict(r: ReaderRecord, last: number) {
  const passes = r.name.startsWith("replay") ? splitPasses(r.offsets) : [r.offsets];
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  passes.forEach((offsets, i) => {
    for (let j = 1; j < offsets.length; j++) if (offsets[j]! < offsets[j - 1]!) outOfOrder++;
    const seen = new Set(offsets);
    duplicated += offsets.length - seen.size;
    const upTo = r.name.startsWith("replay") ? (i === passes.length - 1 ? Math.max(0, ...offsets) : BACKLOG) : last;
    for (let offset = 1; offset <= upTo; offset++) if (!seen.has(offset)) lost++;
  });
  return { name: r.name, events: r.offsets.length, lost, duplicated, outOfOrder, resumes: r.resumes };
}

/** A replay reader's offsets cut where a pass starts again at offset 1. */
function splitPasses(offsets: readonly number[]): number[][] {
  const passes: number[][] = [];
  for (const offset of offsets) {
    if (offset === 1 || passes.length === 0) passes.push([]);
    passes.at(-1)!.push(offset);
  }
  return passes;
}

/** The longest wait between two consecutive events of the reader that ended within the phase. */
function longestGap(r: ReaderRecord, phase: Phase): number {
  let longest = 0;
  for (let i = 1; i < r.arrivals.length; i++) {
    if (r.arrivals[i]! >= phase.from && r.arrivals[i - 1]! <= phase.to) longest = Math.max(longest, r.arrivals[i]! - r.arrivals[i - 1]!);
  }
  return longest;
}

function duplicatesOf(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => seen.has(id) || !seen.add(id));
}

/** The id of every event at offsets 1..last, read straight from JetStream. */
async function idsInStream(last: number): Promise<string[]> {
  const consumer = await backbone.js.consumers.get("orders", { deliver_policy: DeliverPolicy.All });
  const ids: string[] = [];
  try {
    while (ids.length < last) {
      for await (const msg of await consumer.fetch({ max_messages: 1000, expires: 2_000 })) {
        ids.push(msg.headers?.get(HEADER_ID) ?? `seq-${msg.seq}`);
        if (msg.info.pending === 0) break;
      }
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return ids;
}

function printReport(report: (ReturnType<typeof verdict> & { stalls: number[] })[], phases: Phase[], publishers: Load["publishers"], gws: GatewayProcess[]): void {
  const lines = [`reader            events lost dup disorder resumes  longest wait (s): ${phases.map((p) => p.name).join(" | ")}`];
  for (const r of report) {
    lines.push(
      `${r.name.padEnd(17)} ${String(r.events).padStart(6)} ${String(r.lost).padStart(4)} ${String(r.duplicated).padStart(3)} ${String(r.outOfOrder).padStart(8)} ${String(r.resumes).padStart(7)}  ${r.stalls.map((s) => (s / 1000).toFixed(1)).join(" | ")}`,
    );
  }
  for (const p of publishers) lines.push(`${p.name}: ${p.stored.size} stored, slowest ${(Math.max(...p.tookMs) / 1000).toFixed(1)} s`);
  const refusals = [...publishers, ...load!.readers].flatMap((c) => c.refusals.map((x) => `${c.name}: ${x.status} retry-after=${x.retryAfter} ${x.body.slice(0, 160)}`));
  const counted = new Map<string, number>();
  for (const line of refusals) counted.set(line, (counted.get(line) ?? 0) + 1);
  lines.push(`refusals (${refusals.length}):`, ...[...counted].map(([line, n]) => `  ${n} × ${line}`));
  lines.push("gateway warnings and errors:", ...gws.flatMap((g, i) => loggedErrors(g.output()).map((e) => `  gw${i + 1} ${e}`)));
  console.log(lines.join("\n"));
}

/** The gateway's log lines with an error, as "message: class code message", counted. */
function loggedErrors(output: string): string[] {
  const counted = new Map<string, number>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; err?: { type?: string; code?: unknown; message?: string; cause?: { type?: string; code?: unknown; message?: string } } };
    if (!entry.err) continue;
    const { err } = entry;
    const cause = err.cause ? ` <- ${err.cause.type} ${String(err.cause.code ?? "")} ${err.cause.message?.slice(0, 100)}` : "";
    const key = `${entry.msg}: ${err.type} ${String(err.code ?? "")} ${err.message?.slice(0, 100)}${cause}`;
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  return [...counted].map(([key, n]) => `${n} × ${key}`);
}
