/**
 * Many WebSocket subscribers at once (PROTOCOL.md 3 and 5.3): 100 connections with 3
 * subscriptions each join at random past offsets while events are published continuously.
 * Each subscription must get exactly the offsets from its start to the end that match its
 * filter: in order, contiguous, no duplicate, each with the envelope of the event published at
 * that offset. Subscriptions start behind the shared live window, so they catch up from
 * JetStream and then join the window while it moves.
 *
 * The gateway runs as a child process (what `npm start` runs) so it has a core of its own;
 * this process runs the producer and the 100 clients. WS_LOAD_SEED replays a run.
 */
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { createProducer, type Producer } from "../../src/typed/producer.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { seededRandom } from "../support/random.js";
import { sleep, until } from "../support/wait.js";
import { firstDifference } from "./support/util.js";

const SEED = Number(process.env.WS_LOAD_SEED ?? 20261122);
const CONNECTIONS = 100;
const SUBS_PER_CONNECTION = 3;
/** Stored before anyone connects. */
const PRELOAD_EVENTS = 500;
/** Published while the connections join, at a steady pace over LIVE_MS. */
const LIVE_EVENTS = 1_500;
const LIVE_MS = 3_000;
/** Connections join at random moments of the first JOIN_WINDOW_MS of the live publishing. */
const JOIN_WINDOW_MS = 2_500;
const ORDER_IDS = 20;
/**
 * Padding in every event, so the gateway's shared live window (16 MB of its size accounting,
 * about 1,000 such events) moves on during the run: subscriptions that start far back catch up
 * from JetStream while the window moves, and may have to catch up more than once.
 */
const PAD_BYTES = Number(process.env.WS_LOAD_PAD ?? 4_000);
const PAD = "x".repeat(PAD_BYTES);

const CREATED = "demo.orders.v1.OrderCreated";
const SHIPPED = "demo.orders.v1.OrderShipped";
const CANCELLED = "demo.orders.v1.OrderCancelled";
const TYPES = [CREATED, SHIPPED, CANCELLED] as const;
type EventType = (typeof TYPES)[number];

interface Published {
  id: string;
  type: EventType;
  key: string;
  /** The one data field that is unique per event (followed by PAD in the event). */
  mark: string;
}

interface Filter {
  types?: EventType[];
  key?: string;
}

type Kind = "none" | "type" | "two-types" | "key" | "key+type";
const KINDS: Kind[] = ["none", "type", "key", "two-types", "key+type"];

interface Delivered {
  offset: number;
  id: string;
  type: string;
  key: string | undefined;
  stream: string;
  /** The unique part of the marked field, and whether the padding after it came intact. */
  mark: string | undefined;
  padded: boolean;
}

interface Sub {
  name: string;
  kind: Kind;
  filter: Filter;
  from: number | "first";
  subscribed?: { first_offset: number; last_offset: number };
  events: Delivered[];
  problems: string[];
}

interface Conn {
  index: number;
  ws?: WebSocket;
  subs: Sub[];
  joinAtMs: number;
  /** Fraction of the then-known last offset each subscription starts at. */
  fractions: number[];
  errors: string[];
  closed?: string;
}

function matches(event: Published, filter: Filter): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  return filter.key === undefined || filter.key === event.key;
}

let nats: TestNats;
let gateway: GatewayProcess;
let backbone: Backbone;
let producer: Producer<typeof orders>;

beforeAll(async () => {
  nats = await startTestNats();
  gateway = await startGatewayProcess(nats.url);
  backbone = await connectBackbone(nats.url, "ws-load-test");
  producer = createProducer(backbone.js, orders);
});

afterAll(async () => {
  await backbone?.nc.close();
  await gateway?.stop();
  await nats?.stop();
});

describe("100 WebSocket connections x 3 subscriptions under continuous publishing", () => {
  it("give every subscription exactly its matching offsets, in order, once", { timeout: 90_000 }, async () => {
    const t0 = Date.now();
    const rng = seededRandom(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

    // What will be published, decided up front from the seed.
    const plan: Published[] = Array.from({ length: PRELOAD_EVENTS + LIVE_EVENTS }, (_, i) => ({
      id: `ev-${i}`,
      type: pick(TYPES),
      key: `ord-${Math.floor(rng() * ORDER_IDS)}`,
      mark: `m-${i}`,
    }));
    const conns: Conn[] = Array.from({ length: CONNECTIONS }, (_, c) => ({
      index: c,
      joinAtMs: Math.floor(rng() * JOIN_WINDOW_MS),
      fractions: Array.from({ length: SUBS_PER_CONNECTION }, () => rng()),
      subs: Array.from({ length: SUBS_PER_CONNECTION }, (_, j): Sub => {
        const kind = KINDS[(c * SUBS_PER_CONNECTION + j) % KINDS.length]!;
        const key = `ord-${Math.floor(rng() * ORDER_IDS)}`;
        const filter: Filter =
          kind === "none"
            ? {}
            : kind === "type"
              ? { types: [SHIPPED] }
              : kind === "two-types"
                ? { types: [CREATED, CANCELLED] }
                : kind === "key"
                  ? { key }
                  : { key, types: [CANCELLED] };
        return { name: `s${j}-${kind}`, kind, filter, from: "first", events: [], problems: [] };
      }),
      errors: [],
    }));

    /** offset → what was stored there, filled from the publish acks. */
    const stored = new Map<number, Published>();
    let lastAcked = 0;
    const publish = async (event: Published) => {
      const marked = `${event.mark}:${PAD}`;
      const data =
        event.type === CREATED
          ? { orderId: event.key, customerId: marked, totalCents: 1999n, currency: "EUR" }
          : event.type === SHIPPED
            ? { orderId: event.key, carrier: "dhl", trackingNumber: marked }
            : { orderId: event.key, note: marked };
      const { offset, duplicate } = await producer.publish({ type: event.type, data } as never, { id: event.id });
      if (duplicate) throw new Error(`event ${event.id} was stored as a duplicate`);
      stored.set(offset, event);
      lastAcked = Math.max(lastAcked, offset);
    };

    // Stored before anyone reads.
    for (let i = 0; i < PRELOAD_EVENTS; i += 50) await Promise.all(plan.slice(i, i + 50).map(publish));

    // Frames arrive here.
    const onFrame = (conn: Conn, text: string) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(text) as Record<string, unknown>;
      } catch {
        conn.errors.push(`not JSON: ${text.slice(0, 200)}`);
        return;
      }
      const sub = conn.subs.find((s) => s.name === frame.sub);
      switch (frame.op) {
        case "subscribed":
          if (!sub) conn.errors.push(`subscribed for unknown sub ${String(frame.sub)}`);
          else if (sub.subscribed) sub.problems.push("subscribed twice");
          else sub.subscribed = frame as never;
          return;
        case "event": {
          if (!sub) return void conn.errors.push(`event for unknown sub ${String(frame.sub)}`);
          if (!sub.subscribed) sub.problems.push("event before subscribed");
          const e = frame.event as Record<string, unknown> & { data: Record<string, unknown> | null };
          const data = e.data ?? {};
          const marked = (data.customerId ?? data.trackingNumber ?? data.note) as string | undefined;
          const colon = marked?.indexOf(":") ?? -1;
          sub.events.push({
            offset: e.offset as number,
            id: e.id as string,
            type: e.type as string,
            key: e.key as string | undefined,
            stream: e.stream as string,
            mark: colon < 0 ? marked : marked!.slice(0, colon),
            padded: colon >= 0 && marked!.length === colon + 1 + PAD_BYTES,
          });
          return;
        }
        default:
          // gap, unsubscribed, error: none belongs in this run.
          if (sub) sub.problems.push(`unexpected frame ${text.slice(0, 300)}`);
          else conn.errors.push(`unexpected frame ${text.slice(0, 300)}`);
      }
    };

    const join = async (conn: Conn) => {
      const ws = new WebSocket(gateway.wsUrl, "streamgate.v1.json", { perMessageDeflate: false });
      conn.ws = ws;
      ws.on("message", (data: Buffer) => onFrame(conn, data.toString("utf8")));
      ws.on("close", (code, reason) => (conn.closed = `${code} ${reason.toString()}`));
      ws.on("error", (err) => conn.errors.push(`socket error: ${err.message}`));
      await new Promise<void>((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      if (ws.protocol !== "streamgate.v1.json") conn.errors.push(`subprotocol ${ws.protocol}`);
      conn.subs.forEach((sub, j) => {
        const f = conn.fractions[j]!;
        // Mostly a random offset among those already stored; a few from=first.
        sub.from = f < 0.05 ? "first" : 1 + Math.floor(f * lastAcked);
        ws.send(JSON.stringify({ op: "subscribe", sub: sub.name, stream: "orders", from: sub.from, ...sub.filter }));
      });
    };

    // Publish the rest at a steady pace while the connections join.
    const liveStart = Date.now();
    const joins = conns.map(async (conn) => {
      await sleep(conn.joinAtMs);
      await join(conn);
    });
    const live = plan.slice(PRELOAD_EVENTS);
    const TICK_MS = 20;
    const perTick = Math.ceil(live.length / (LIVE_MS / TICK_MS));
    for (let i = 0, tick = 0; i < live.length; i += perTick, tick++) {
      const wait = liveStart + tick * TICK_MS - Date.now();
      if (wait > 0) await sleep(wait);
      await Promise.all(live.slice(i, i + perTick).map(publish));
    }
    const publishMs = Date.now() - liveStart;
    await Promise.all(joins);
    const joinedMs = Date.now() - liveStart;

    const total = plan.length;
    expect([...stored.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // What each subscription must get: its start to the end, filtered.
    const subs = conns.flatMap((c) => c.subs.map((s) => ({ conn: c, sub: s })));
    const expectedOf = new Map<Sub, number[]>();
    for (const { sub } of subs) {
      const start = sub.from === "first" ? 1 : sub.from;
      const offsets: number[] = [];
      for (let o = start; o <= total; o++) if (matches(stored.get(o)!, sub.filter)) offsets.push(o);
      expectedOf.set(sub, offsets);
    }
    const behind = () => subs.filter(({ sub }) => sub.events.length < expectedOf.get(sub)!.length);
    const drainStart = Date.now();
    let timedOut: string | undefined;
    await until(
      () => behind().length === 0 || conns.some((c) => c.closed !== undefined),
      "every subscription to reach the last offset",
      30_000,
      () => `${behind().length} subscriptions behind`,
    ).catch((err: Error) => (timedOut = err.message));
    const drainMs = Date.now() - drainStart;
    // Anything extra (a duplicate, a stray event) would come now.
    await sleep(300);

    const problems: string[] = timedOut ? [timedOut] : [];
    let delivered = 0;
    for (const { conn, sub } of subs) {
      const where = `c${conn.index}/${sub.name} (from ${sub.from}, ${JSON.stringify(sub.filter)})`;
      const expected = expectedOf.get(sub)!;
      const got = sub.events.map((e) => e.offset);
      delivered += got.length;
      if (!sub.subscribed) problems.push(`${where}: no subscribed frame`);
      else if (sub.subscribed.first_offset !== 1) problems.push(`${where}: first_offset ${sub.subscribed.first_offset}`);
      problems.push(...sub.problems.map((p) => `${where}: ${p}`));
      const diff = firstDifference(got, expected);
      if (diff) problems.push(`${where}: ${sub.subscribed ? `subscribed (last_offset ${sub.subscribed.last_offset})` : "not subscribed"}, ${diff}`);
      for (const e of sub.events) {
        const p = stored.get(e.offset);
        if (!p || e.id !== p.id || e.type !== p.type || e.key !== p.key || e.mark !== p.mark || !e.padded || e.stream !== "orders") {
          problems.push(`${where}: offset ${e.offset} delivered ${JSON.stringify(e)}, published ${JSON.stringify(p)}`);
          break;
        }
      }
    }
    for (const conn of conns) {
      problems.push(...conn.errors.map((e) => `c${conn.index}: ${e}`));
      if (conn.closed !== undefined) problems.push(`c${conn.index}: closed by the gateway: ${conn.closed}`);
    }

    const kinds = KINDS.map((k) => `${k} ${subs.filter(({ sub }) => sub.kind === k).length}`).join(", ");
    console.log(
      `[ws many-subscribers] seed ${SEED}: ${CONNECTIONS} connections, ${subs.length} subscriptions (${kinds}), ` +
        `${total} events (${PRELOAD_EVENTS} before, ${LIVE_EVENTS} live in ${(publishMs / 1000).toFixed(1)} s), ` +
        `all joined after ${(joinedMs / 1000).toFixed(1)} s, ${delivered} events delivered, ` +
        `caught up ${(drainMs / 1000).toFixed(1)} s after the last publish; ${((Date.now() - t0) / 1000).toFixed(1)} s in all`,
    );
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);

    for (const conn of conns) conn.ws?.close(1000);
  });
});
