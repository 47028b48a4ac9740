/**
 * Webhooks and retention (PROTOCOL.md sections 3 and 6): a webhook whose position falls below
 * the stream's oldest retained event, at create, at replay or later while it runs or is paused,
 * is never skipped past silently. The answer carries `gap`, the view `lastGap`, the attempts
 * log a `{"kind":"gap"}` entry; the receiver gets exactly the retained events. Real gateway,
 * real nats-server (purged through the gateway's own backbone), real HTTP receivers.
 *
 * A purge is stream-wide, so every test gets a gateway over a nats-server of its own: its
 * offsets start at 1 and no test's purge reaches another's events.
 */
import { NetworkPolicy } from "../../src/net/network-policy.js";
import type { JetStreamManager } from "@nats-io/jetstream";
import { pino } from "pino";
import { test as base, describe, expect } from "vitest";
import { startTestBackbone, type TestBackbone } from "../support/backbone.js";
import { RFC3339_UTC, T } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, type Client } from "../support/http.js";
import { publishOrders } from "../support/publish-orders.js";
import { eventually } from "../support/wait.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { Hooks, publish, publishShipped, shipped, type EventSpec } from "../support/webhooks.js";
import { readStreamState } from "../../src/backbone/stream-state.js";
import { loadSchemas } from "../../src/schema/registry.js";
import type { AttemptsLogEntry } from "../../src/webhooks/logs.js";
import { startWebhooks, type Webhooks } from "../../src/webhooks/webhooks.js";
import { Metrics } from "../../src/metrics/metrics.js";

interface GatewayFixtures {
  gw: TestGateway;
  api: Client;
  hooks: Hooks;
  /** A new receiver, closed when the test ends. */
  receiver: () => Promise<Receiver>;
}

const it = base.extend<GatewayFixtures>({
  gw: async ({}, use) => {
    const gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    await use(gw);
    await gw.close();
  },
  api: async ({ gw }, use) => use(client(gw.url)),
  hooks: async ({ api }, use) => use(new Hooks(api)),
  receiver: async ({}, use) => {
    const started: Receiver[] = [];
    await use(async () => {
      const r = await startReceiver();
      started.push(r);
      return r;
    });
    for (const r of started) await r.close();
  },
});

/** Removes every event of `orders` below `offset`. */
const purgeBelow = (gw: TestGateway, offset: number) => gw.gateway.session.backbone.jsm.streams.purge("orders", { seq: offset });

async function epochOf(api: Client): Promise<string> {
  const res = await api.get("/v1/streams/orders");
  expect(res.status, res.text).toBe(200);
  return res.body.epoch;
}

const created = (orderId: string): EventSpec => ({ type: T.created, data: { orderId } });

/** The webhook once it has delivered `count` events and stands at `position`: nothing more is due. */
const settledAt = (hooks: Hooks, id: string, count: number, position: number) =>
  eventually(
    () => hooks.get(id),
    (view) => view.counts.delivered >= count && view.position >= position,
    `webhook ${id} to deliver ${count} events and stand at ${position}`,
  );

/** The attempts log once it holds `entries` entries (attempts are logged without waiting). */
const attemptsLog = (read: () => Promise<AttemptsLogEntry[]>, entries: number) =>
  eventually(read, (log) => log.length >= entries, `${entries} entries in the attempts log`);

/** The log, newest first, as offsets attempted and "gap". */
const offsetsOf = (log: AttemptsLogEntry[]) => log.map((e) => ("kind" in e ? e.kind : e.offset));

describe("at create and replay", () => {
  it("create from an offset retention removed: the answer carries the gap, the view lastGap, the log a gap entry; then exactly the retained events", async ({ gw, api, hooks, receiver }) => {
    const r = await receiver();
    expect((await publishShipped(api, 5)).map((e) => e.offset)).toEqual([1, 2, 3, 4, 5]);
    await purgeBelow(gw, 4);
    const notice = { stream: "orders", requested: 1, first: 4, epoch: await epochOf(api) };

    const hook = await hooks.create({ url: r.url, stream: "orders", from: 1 });
    expect(hook.gap).toEqual(notice);
    expect(hook.position).toBe(4);

    await r.waitForCount(2);
    await settledAt(hooks, hook.id, 2, 6);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([4, 5]);

    const view = await hooks.get(hook.id);
    expect(view.lastGap).toEqual({ ...notice, at: expect.stringMatching(RFC3339_UTC) });
    expect(view).not.toHaveProperty("gap");
    const list = await api.get("/v1/webhooks");
    expect(list.body.webhooks.find((w: { id: string }) => w.id === hook.id).lastGap).toEqual(view.lastGap);

    // Newest first: the gap came before the first attempt.
    const log = await attemptsLog(() => hooks.attempts(hook.id), 3);
    expect(offsetsOf(log)).toEqual([5, 4, "gap"]);
    expect(log[2]).toEqual({ kind: "gap", ...notice, at: view.lastGap.at });
  });

  it("replay from an offset retention removed: the replay answer carries the gap, and delivery restarts at the oldest retained event", async ({ gw, api, hooks, receiver }) => {
    const r = await receiver();
    const hook = await hooks.create({ url: r.url, stream: "orders" });
    expect(hook.gap).toBeUndefined();
    await publishShipped(api, 5);
    await r.waitForCount(5);
    await settledAt(hooks, hook.id, 5, 6);
    await purgeBelow(gw, 4);
    const notice = { stream: "orders", requested: 1, first: 4, epoch: await epochOf(api) };

    const res = await api.postJson(`/v1/webhooks/${hook.id}/replay`, { from: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.gap).toEqual(notice);
    expect(res.body.position).toBe(4);
    expect(res.body.lastGap).toEqual({ ...notice, at: expect.stringMatching(RFC3339_UTC) });

    await r.waitForCount(7);
    await settledAt(hooks, hook.id, 7, 6);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([1, 2, 3, 4, 5, 4, 5]);
    const log = await attemptsLog(() => hooks.attempts(hook.id), 8);
    expect(offsetsOf(log)).toEqual([5, 4, "gap", 5, 4, 3, 2, 1]);
    expect(log[2]).toEqual({ kind: "gap", ...notice, at: res.body.lastGap.at });
  });
});

describe("later, through retention", () => {
  it("while paused: resumed, it reports the events removed meanwhile and delivers exactly the retained ones", async ({ gw, api, hooks, receiver }) => {
    const r = await receiver();
    const hook = await hooks.create({ url: r.url, stream: "orders", from: "first", paused: true });
    expect(hook).toMatchObject({ status: "paused", position: 1 });
    expect(hook.gap).toBeUndefined();
    await publishShipped(api, 5);
    await purgeBelow(gw, 3);
    const notice = { stream: "orders", requested: 1, first: 3, epoch: await epochOf(api) };

    const resumed = await hooks.patch(hook.id, { paused: false });
    expect(resumed.status, resumed.text).toBe(200);
    await r.waitForCount(3);
    await settledAt(hooks, hook.id, 3, 6);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([3, 4, 5]);

    const view = await hooks.get(hook.id);
    expect(view.lastGap).toEqual({ ...notice, at: expect.stringMatching(RFC3339_UTC) });
    const log = await attemptsLog(() => hooks.attempts(hook.id), 4);
    expect(offsetsOf(log)).toEqual([5, 4, 3, "gap"]);
    expect(log[3]).toEqual({ kind: "gap", ...notice, at: view.lastGap.at });
  });

  it("while running with a filter: reports matching events removed before it took them, once, also across a worker restart", async ({ gw, api, hooks, receiver }) => {
    // The first delivery is held until the test lets it go, so what follows waits in the stream.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const r = await receiver();
    r.behaviour = async (req) => {
      if (req.index === 0) await held;
      return 204;
    };
    const hook = await hooks.create({ url: r.url, stream: "orders", types: [T.created], timeoutMs: 60_000 });
    const published = await publish(api, [created("a"), created("b"), shipped("c"), created("d")]);
    expect(published.map((e) => e.offset)).toEqual([1, 2, 3, 4]);
    await r.waitForCount(1);
    expect(r.requests[0]!.offset).toBe(1);
    // b (matching) and c (not) go while a is being delivered.
    await purgeBelow(gw, 4);
    const notice = { stream: "orders", requested: 2, first: 4, epoch: await epochOf(api) };
    release();

    await r.waitForCount(2);
    await settledAt(hooks, hook.id, 2, 5);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([1, 4]);
    const view = await hooks.get(hook.id);
    expect(view.lastGap).toEqual({ ...notice, at: expect.stringMatching(RFC3339_UTC) });
    expect(offsetsOf(await attemptsLog(() => hooks.attempts(hook.id), 3))).toEqual([4, "gap", 1]);

    // A change that restarts the worker, then more events: the same skip is not reported again.
    const patched = await hooks.patch(hook.id, { description: "restarted" });
    expect(patched.status, patched.text).toBe(200);
    expect((await publish(api, [shipped("e"), created("f")])).map((e) => e.offset)).toEqual([5, 6]);
    await r.waitForCount(3);
    await settledAt(hooks, hook.id, 3, 7);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([1, 4, 6]);
    expect(offsetsOf(await attemptsLog(() => hooks.attempts(hook.id), 4))).toEqual([6, 4, "gap", 1]);
    expect((await hooks.get(hook.id)).lastGap).toEqual(view.lastGap);
  });
});

describe("no gap when nothing was removed", () => {
  it("filtered webhooks skipping offsets that do not match report nothing, nor does a purge below where they start", async ({ gw, api, hooks, receiver }) => {
    await publishShipped(api, 3);
    await purgeBelow(gw, 3);
    const [one, two, byKey] = [await receiver(), await receiver(), await receiver()];
    const oneType = await hooks.create({ url: one.url, stream: "orders", types: [T.created], from: "first" });
    const twoTypes = await hooks.create({ url: two.url, stream: "orders", types: [T.created, T.cancelled], from: 3 });
    const keyed = await hooks.create({ url: byKey.url, stream: "orders", key: "x", from: 3 });
    for (const hook of [oneType, twoTypes, keyed]) expect(hook).toMatchObject({ position: 3 });
    for (const hook of [oneType, twoTypes, keyed]) expect(hook.gap).toBeUndefined();

    const published = await publish(api, [shipped("k1"), created("x"), shipped("k2"), shipped("k3"), created("k4"), shipped("x")]);
    expect(published.map((e) => e.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    const want = new Map([
      [oneType.id, { r: one, offsets: [5, 8] }],
      [twoTypes.id, { r: two, offsets: [5, 8] }],
      [keyed.id, { r: byKey, offsets: [5, 9] }],
    ]);
    for (const [id, { r, offsets }] of want) {
      await r.waitForCount(offsets.length);
      await settledAt(hooks, id, offsets.length, offsets.at(-1)! + 1);
      expect(r.requests.map((q) => q.offset), r.summary()).toEqual(offsets);
      expect((await hooks.get(id)).lastGap).toBeUndefined();
      expect(offsetsOf(await attemptsLog(() => hooks.attempts(id), offsets.length))).toEqual([...offsets].reverse());
    }
  });
});

interface ProcessFixtures {
  backbone: TestBackbone;
  /** The stream of every stream-state lookup the webhooks made, in order. */
  lookedUp: string[];
  webhooks: Webhooks;
  receiver: () => Promise<Receiver>;
}

/**
 * The webhooks of one gateway process, over the real backbone, with their stream-state
 * lookups counted; the dispatcher tells when a paused webhook's worker has stopped.
 */
const inProcess = base.extend<ProcessFixtures>({
  backbone: async ({}, use) => {
    const backbone = await startTestBackbone();
    await use(backbone);
    await backbone.close();
  },
  lookedUp: async ({}, use) => use([]),
  webhooks: async ({ backbone, lookedUp }, use) => {
    const streams = Object.create(backbone.jsm.streams) as JetStreamManager["streams"];
    streams.info = (name, options) => {
      lookedUp.push(name);
      return backbone.jsm.streams.info(name, options);
    };
    const jsm = Object.create(backbone.jsm, { streams: { value: streams } }) as JetStreamManager;
    const webhooks = await startWebhooks({ ...backbone, jsm }, await loadSchemas(), {
      policy: new NetworkPolicy("127.0.0.0/8"),
      stateReplicas: 1,
      log: pino({ level: "silent" }),
      metrics: new Metrics(),
    });
    await use(webhooks);
    await webhooks.close();
  },
  receiver: async ({}, use) => {
    const r = await startReceiver();
    await use(async () => r);
    await r.close();
  },
});

describe("paused after delivering", () => {
  inProcess(
    "reports the events purged while it was paused; it looks at the stream only for that one skip",
    async ({ backbone, lookedUp, webhooks, receiver }) => {
      const r = await receiver();
      const { service, dispatcher } = webhooks;
      const hook = await service.create({ url: r.url, stream: "orders" });
      await eventually(async () => dispatcher.workers, (n) => n === 1, "the webhook's worker to start");
      lookedUp.length = 0;
      expect(await publishOrders(backbone, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await r.waitForCount(10);
      expect(lookedUp.filter((s) => s === "orders"), "stream lookups while nothing was skipped").toEqual([]);

      await service.patch(hook.id, { paused: true });
      // Stopped: nothing published from here on can reach the receiver before the purge.
      await eventually(async () => dispatcher.workers, (n) => n === 0, "the webhook's worker to stop");
      expect(await publishOrders(backbone, 3, { prefix: "later" })).toEqual([11, 12, 13]);
      await backbone.jsm.streams.purge("orders", { seq: 13 });
      const notice = { stream: "orders", requested: 11, first: 13, epoch: (await readStreamState(backbone.jsm, "orders")).epoch };

      lookedUp.length = 0;
      await service.patch(hook.id, { paused: false });
      await r.waitForCount(11);
      expect(lookedUp.filter((s) => s === "orders"), "stream lookups for the one skip").toEqual(["orders"]);
      expect(r.requests.map((x) => x.offset), r.summary()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13]);
      const view = await eventually(() => service.get(hook.id), (v) => v.counts.delivered >= 11, "11 deliveries counted");
      expect(view.lastGap).toEqual({ ...notice, at: expect.stringMatching(RFC3339_UTC) });
      const log = await attemptsLog(() => service.attempts(hook.id, 20), 12);
      expect(offsetsOf(log)).toEqual([13, "gap", 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    },
  );
});
