/**
 * PROTOCOL.md section 3 (positions, epochs, gap notices, filters) over both HTTP reading
 * protocols of section 5: Server-Sent Events and long/short polling. Black-box: real HTTP
 * against an in-process gateway over its own nats-server; setup publishes through the typed
 * producer. Every read asserts the exact offsets, in order, with nothing extra.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { range, T, tag } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { sleep } from "../support/wait.js";
import { expectError, send } from "../support/http.js";
import {
  openSse,
  poll,
  pollRaw,
  PROTOCOLS,
  publish,
  publishShipped,
  read,
  readPoll,
  shapeOf,
  ssePath,
  streamInfo,
  type OrderSpec,
  type Query,
} from "./harness.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await publishShipped(gw, 5);
});
afterAll(async () => gw?.close());

describe.each(PROTOCOLS)("%s: where a read starts", (protocol) => {
  it("from=<offset> starts exactly at that offset and delivers every later event in order", async () => {
    const offsets = await publishShipped(gw, 6);
    expect(shapeOf(await read(protocol, gw, { from: offsets[2]! }, {}, 4))).toEqual(offsets.slice(2));
    expect(shapeOf(await read(protocol, gw, { from: offsets[5]! }, {}, 1))).toEqual([offsets[5]]);
  });

  it("from=<offset> delivers the envelope of each event: stream, offset, id, type, key", async () => {
    const t = tag("env");
    const offsets = await publish(gw, [
      { type: T.shipped, data: { orderId: `${t}-a` }, id: `${t}-id-a` },
      { type: T.created, data: { orderId: `${t}-b`, totalCents: 5n }, id: `${t}-id-b` },
    ]);
    const items = await read(protocol, gw, { from: offsets[0]! }, {}, 2);
    expect(items.map((i) => (i.kind === "event" ? { kind: i.kind, event: { ...i.event, time: "t" } } : i))).toEqual([
      { kind: "event", event: { stream: "orders", offset: offsets[0], id: `${t}-id-a`, type: T.shipped, key: `${t}-a`, time: "t", data: { orderId: `${t}-a` } } },
      { kind: "event", event: { stream: "orders", offset: offsets[1], id: `${t}-id-b`, type: T.created, key: `${t}-b`, time: "t", data: { orderId: `${t}-b`, totalCents: "5" } } },
    ]);
  });

  it("from=first starts at the oldest retained event", async () => {
    const info = await streamInfo(gw);
    expect(info.first_offset).toBe(1);
    const items = await read(protocol, gw, { from: "first" }, {}, info.events);
    expect(shapeOf(items)).toEqual(range(info.first_offset, info.events));
  });

  it("since=<RFC 3339> starts at the first event stored at or after that time (Z or a numeric offset)", async () => {
    await publishShipped(gw, 3);
    await sleep(50);
    const since = new Date();
    await sleep(50);
    const after = await publishShipped(gw, 3);

    expect(shapeOf(await read(protocol, gw, { since: since.toISOString() }, {}, 3))).toEqual(after);
    // The same instant written with a +02:00 offset.
    const shifted = new Date(since.getTime() + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    expect(shapeOf(await read(protocol, gw, { since: shifted }, {}, 3))).toEqual(after);
    // A time before every event: everything retained.
    const info = await streamInfo(gw);
    const all = await read(protocol, gw, { since: "2000-01-01T00:00:00Z" }, {}, info.events);
    expect(shapeOf(all)).toEqual(range(info.first_offset, info.events));
  });

  it("since=<the stored time of an event> starts at that very event", async () => {
    const [first] = await publishShipped(gw, 1);
    await sleep(20);
    const offsets = await publishShipped(gw, 3);
    const [firstOfThree] = await read(protocol, gw, { from: offsets[0]! }, {}, 3);
    expect(firstOfThree?.kind).toBe("event");
    const time = firstOfThree!.kind === "event" ? firstOfThree!.event.time : "";
    expect(shapeOf(await read(protocol, gw, { since: time }, {}, 3))).toEqual(offsets);
    expect(first).toBe(offsets[0]! - 1);
  });

  it("since= keeps nanosecond precision: one nanosecond after an event's stored time starts after it", async () => {
    const [a] = await publishShipped(gw, 1);
    await sleep(5);
    const later = await publishShipped(gw, 2);
    // The stored time with nanoseconds, as JetStream keeps it (setup only; the read is black-box).
    const stored = (await gw.gateway.session.backbone.jsm.streams.getMessage("orders", { seq: a! }))!;
    const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(stored.timestamp);
    expect(match, stored.timestamp).not.toBeNull();
    const nanos = BigInt((match![2] ?? "").padEnd(9, "0").slice(0, 9));
    const exact = `${match![1]}.${nanos.toString().padStart(9, "0")}Z`;
    const plusOne = nanos + 1n < 1_000_000_000n ? `${match![1]}.${(nanos + 1n).toString().padStart(9, "0")}Z` : undefined;
    expect(shapeOf(await read(protocol, gw, { since: exact }, {}, 3))).toEqual([a, ...later]);
    if (plusOne) expect(shapeOf(await read(protocol, gw, { since: plusOne }, {}, 2))).toEqual(later);
  });

  it("last=N gives exactly the last N events; N beyond the stream gives everything, without a gap", async () => {
    const offsets = await publishShipped(gw, 5);
    expect(shapeOf(await read(protocol, gw, { last: 3 }, {}, 3))).toEqual(offsets.slice(2));
    expect(shapeOf(await read(protocol, gw, { last: 1 }, {}, 1))).toEqual(offsets.slice(4));
    const info = await streamInfo(gw);
    expect(shapeOf(await read(protocol, gw, { last: 10000 }, {}, info.events))).toEqual(range(info.first_offset, info.events));
  });

  it("the epoch the stream has gives no gap notice", async () => {
    const offsets = await publishShipped(gw, 3);
    const { epoch } = await streamInfo(gw);
    expect(shapeOf(await read(protocol, gw, { from: offsets[1]!, epoch }, {}, 2))).toEqual(offsets.slice(1));
  });

  it("an epoch that does not match gives a gap notice, then delivery from the oldest retained event", async () => {
    const offsets = await publishShipped(gw, 2);
    const info = await streamInfo(gw);
    const items = await read(protocol, gw, { from: offsets[1]!, epoch: "not-the-epoch" }, {}, info.events);
    expect(items[0]).toEqual({
      kind: "gap",
      gap: { stream: "orders", requested: offsets[1], first: info.first_offset, epoch: info.epoch },
    });
    expect(shapeOf(items.slice(1))).toEqual(range(info.first_offset, info.events));
  });
});

describe("sse: from=now and live delivery", () => {
  it.each<[string, Query]>([
    ["from=now", { from: "now" }],
    ["no position (the default is from=now)", {}],
  ])("%s delivers only events stored after the response started", async (_name, position) => {
    await publishShipped(gw, 2);
    const sse = await openSse(gw, position);
    try {
      // The response headers have come: the read has started, its position is fixed.
      const offsets = await publishShipped(gw, 3);
      await sse.waitForEvents(3);
      await sse.quiet(200);
      expect(shapeOf(sse.readItems())).toEqual(offsets);
    } finally {
      await sse.close();
    }
  });

  it("from=<last_offset + 1> waits for the next event", async () => {
    const info = await streamInfo(gw);
    const sse = await openSse(gw, { from: info.last_offset + 1 });
    try {
      await sse.quiet(200);
      expect(sse.readItems()).toEqual([]);
      const offsets = await publishShipped(gw, 2);
      await sse.waitForEvents(2);
      expect(shapeOf(sse.readItems())).toEqual(offsets);
    } finally {
      await sse.close();
    }
  });

  it("last=N delivers the last N events, then goes on live", async () => {
    const before = await publishShipped(gw, 4);
    const sse = await openSse(gw, { last: 2 });
    try {
      await sse.waitForEvents(2);
      const after = await publishShipped(gw, 3);
      await sse.waitForEvents(5);
      await sse.quiet(200);
      expect(shapeOf(sse.readItems())).toEqual([...before.slice(2), ...after]);
    } finally {
      await sse.close();
    }
  });
});

describe("poll: from=now and live delivery", () => {
  it.each<[string, Query]>([
    ["from=now", { from: "now" }],
    ["no position (the default is from=now)", {}],
  ])("a short poll with %s brings no stored event and next = last_offset + 1", async (_name, position) => {
    await publishShipped(gw, 2);
    const info = await streamInfo(gw);
    const { body } = await poll(gw, { ...position, wait: 0 });
    expect(body).toMatchObject({ events: [], next: info.last_offset + 1, first_offset: info.first_offset, last_offset: info.last_offset });
    expect(body.gap).toBeUndefined();
    // That next is where the reader continues: the following events, exactly.
    const offsets = await publishShipped(gw, 2);
    const { items } = await readPoll(gw, { from: body.next }, {}, 2);
    expect(shapeOf(items)).toEqual(offsets);
  });

  it.each<[string, Query]>([
    ["from=now", { from: "now" }],
    ["no position (the default is from=now)", {}],
  ])("a long poll with %s started before a publish returns with the new event only", async (_name, position) => {
    await publishShipped(gw, 2);
    const pending = poll(gw, { ...position, wait: 10 });
    await sleep(400);
    const offsets = await publishShipped(gw, 2);
    const { body, ms } = await pending;
    expect(ms).toBeLessThan(5_000);
    expect(body.events.length).toBeGreaterThanOrEqual(1);
    expect(body.events.map((e) => e.offset)).toEqual(offsets.slice(0, body.events.length));
    expect(body.next).toBe(body.events.at(-1)!.offset + 1);
  });

  it("from=<last_offset + 1> is accepted: a short poll brings nothing and the same next", async () => {
    const info = await streamInfo(gw);
    const { body } = await poll(gw, { from: info.last_offset + 1, wait: 0 });
    expect(body).toMatchObject({ events: [], next: info.last_offset + 1 });
  });

  it("last=N: the last N events, then next continues live", async () => {
    const before = await publishShipped(gw, 4);
    const { items, answers } = await readPoll(gw, { last: 2 }, {}, 2);
    expect(shapeOf(items)).toEqual(before.slice(2));
    const after = await publishShipped(gw, 3);
    const live = await readPoll(gw, { from: answers.at(-1)!.next }, {}, 3);
    expect(shapeOf(live.items)).toEqual(after);
  });
});

describe("sse: resuming with Last-Event-ID / lastEventId", () => {
  const cases: [string, (offsets: number[]) => { query: Query; headers?: Record<string, string> }][] = [
    ["the Last-Event-ID header", (o) => ({ query: {}, headers: { "last-event-id": String(o[1]) } })],
    ["the lastEventId query parameter", (o) => ({ query: { lastEventId: o[1]! } })],
    ["lastEventId over from=first", (o) => ({ query: { from: "first", lastEventId: o[1]! } })],
    ["lastEventId over from=now", (o) => ({ query: { from: "now", lastEventId: o[1]! } })],
    ["lastEventId over from=<offset>", (o) => ({ query: { from: o[0]!, lastEventId: o[1]! } })],
    ["Last-Event-ID over from=<offset>", (o) => ({ query: { from: o[3]! }, headers: { "last-event-id": String(o[1]) } })],
    ["Last-Event-ID over last=N", (o) => ({ query: { last: 1 }, headers: { "last-event-id": String(o[1]) } })],
    ["Last-Event-ID over since=", (o) => ({ query: { since: "2000-01-01T00:00:00Z" }, headers: { "last-event-id": String(o[1]) } })],
  ];

  it.each(cases)("%s resumes right after that offset", async (_name, make) => {
    const offsets = await publishShipped(gw, 5);
    const { query, headers } = make(offsets);
    const sse = await openSse(gw, query, { ...(headers && { headers }) });
    try {
      await sse.waitForEvents(3);
      await sse.quiet(200);
      expect(shapeOf(sse.readItems())).toEqual(offsets.slice(2));
    } finally {
      await sse.close();
    }
  });

  it.each<[string, Record<string, string>, Query]>([
    ["a Last-Event-ID that is not an offset", { "last-event-id": "abc" }, {}],
    ["a lastEventId that is not an offset", {}, { lastEventId: "abc" }],
    ["a Last-Event-ID beyond the end of the stream", { "last-event-id": "999999" }, {}],
  ])("%s: 400 invalid_argument", async (_name, headers, query) => {
    expectError(await send(gw.url, { path: ssePath(query), headers }), 400, "invalid_argument");
  });

  it("a reconnect with the last id seen loses nothing and repeats nothing", async () => {
    const offsets = await publishShipped(gw, 4);
    const first = await openSse(gw, { from: offsets[0]! });
    let lastId: string;
    try {
      await first.waitForEvents(2);
      lastId = first.messages().filter((m) => m.event === undefined && m.id !== undefined).at(-1)!.id!;
    } finally {
      await first.close();
    }
    const seen = first.envelopes().map((e) => e.offset);
    const more = await publishShipped(gw, 2);
    const second = await openSse(gw, {}, { headers: { "last-event-id": lastId } });
    try {
      const expected = [...offsets, ...more].filter((o) => o > seen.at(-1)!);
      await second.waitForEvents(expected.length);
      await second.quiet(200);
      expect([...seen, ...second.offsets()]).toEqual([...offsets, ...more]);
    } finally {
      await second.close();
    }
  });
});

describe.each(PROTOCOLS)("%s: filters", (protocol) => {
  const p = tag("f");
  const k1 = `${p}-k1`;
  const k2 = `${p}-k2`;
  const k3 = `${p}-k3`;
  const dotted = "a.b c";
  const unicode = "ключ é/1";
  const batch: OrderSpec[] = [
    { type: T.created, data: { orderId: k1, totalCents: 1n } },
    { type: T.shipped, data: { orderId: k1, carrier: "dhl" } },
    { type: T.cancelled, data: { orderId: k1, reason: 2 } },
    { type: T.created, data: { orderId: k2 } },
    { type: T.shipped, data: { orderId: dotted } },
    { type: T.shipped, data: { orderId: k2 } },
    { type: T.created, data: { orderId: dotted } },
    { type: T.cancelled, data: { orderId: k2 } },
    { type: T.shipped, data: { orderId: k3 } },
    { type: T.cancelled, data: { orderId: dotted } },
    { type: T.shipped, data: { orderId: "" } },
    { type: T.created, data: { orderId: unicode } },
    { type: T.created, data: { orderId: k1 } },
  ];
  let offsets: number[] = [];

  beforeAll(async () => {
    offsets = await publish(gw, batch);
    expect(offsets).toEqual(range(offsets[0]!, batch.length));
  });

  const cases: [string, Query][] = [
    ["types=<one type>", { types: [T.shipped] }],
    ["types=<a>,<b>", { types: [T.created, T.cancelled] }],
    ["key=<plain key>", { key: k1 }],
    ['key=<a key needing encoding: "a.b c">', { key: dotted }],
    ["key=<a non-ASCII key>", { key: unicode }],
    ["types=<one type>&key=<key>", { types: [T.shipped], key: k2 }],
    ['types=<a>,<b>&key="a.b c"', { types: [T.created, T.cancelled], key: dotted }],
  ];

  it.each(cases)("%s delivers exactly the matching events, in order", async (_name, filter) => {
    const types = filter.types as readonly string[] | undefined;
    const expected = offsets.filter((_, i) => {
      const spec = batch[i]!;
      const key = (spec.data as { orderId?: string }).orderId;
      return (types === undefined || types.includes(spec.type)) && (filter.key === undefined || key === filter.key);
    });
    expect(expected.length).toBeGreaterThan(0);
    const items = await read(protocol, gw, { from: offsets[0]! }, filter, expected.length);
    expect(shapeOf(items)).toEqual(expected);
    for (const item of items) {
      if (item.kind !== "event") continue;
      if (types) expect(types).toContain(item.event.type);
      if (filter.key !== undefined) expect(item.event.key).toBe(filter.key);
    }
  });

  it("a filter matching nothing in the range brings nothing, and is not a gap", async () => {
    if (protocol === "sse") {
      const sse = await openSse(gw, { from: offsets[0]!, key: `${p}-nobody` });
      try {
        await sse.quiet(300);
        expect(sse.readItems()).toEqual([]);
      } finally {
        await sse.close();
      }
    } else {
      const info = await streamInfo(gw);
      const { body } = await poll(gw, { from: offsets[0]!, key: `${p}-nobody`, wait: 0 });
      expect(body.events).toEqual([]);
      expect(body.gap).toBeUndefined();
      // The filtered-out events are behind the reader: next points past them.
      expect(body.next).toBe(info.last_offset + 1);
    }
  });
});

describe.each(PROTOCOLS)("%s: malformed or conflicting positions", (protocol) => {
  const cases: [string, (last: number) => Query][] = [
    ["from and last", () => ({ from: 1, last: 2 })],
    ["from and since", () => ({ from: "first", since: "2026-01-01T00:00:00Z" })],
    ["since and last", () => ({ since: "2026-01-01T00:00:00Z", last: 3 })],
    ["from=abc", () => ({ from: "abc" })],
    ["from=0", () => ({ from: 0 })],
    ["from=-1", () => ({ from: -1 })],
    ["from=1.5", () => ({ from: "1.5" })],
    ["from above 2^53-1", () => ({ from: "9007199254740993" })],
    ["last=0", () => ({ last: 0 })],
    ["last=10001", () => ({ last: 10001 })],
    ["last=x", () => ({ last: "x" })],
    ["since=yesterday", () => ({ since: "yesterday" })],
    ["since=<an impossible date>", () => ({ since: "2026-13-45T00:00:00Z" })],
    ["from=<last_offset + 2>", (last) => ({ from: last + 2 })],
  ];

  async function answer(query: Query) {
    return protocol === "sse" ? send(gw.url, { path: ssePath(query) }) : pollRaw(gw, "orders", { ...query, wait: 0 });
  }

  it.each(cases)("%s: 400 invalid_argument", async (_name, make) => {
    const info = await streamInfo(gw);
    expectError(await answer(make(info.last_offset)), 400, "invalid_argument");
  });

  it("from=<last_offset + 2>: the message names the stream's first_offset and last_offset", async () => {
    const info = await streamInfo(gw);
    const message: string = (await answer({ from: info.last_offset + 2 })).body.error.message;
    expect(message).toMatch(new RegExp(`first_offset\\D{0,8}${info.first_offset}\\b`));
    expect(message).toMatch(new RegExp(`last_offset\\D{0,8}${info.last_offset}\\b`));
  });

  // PROTOCOL.md 3: "Two position parameters at once, a malformed one, or from above
  // last_offset + 1: 400 (invalid_argument), with the stream's current first_offset/last_offset
  // in the message." One test over every case, so one root cause is one failure.
  it("every such 400 names the stream's first_offset and last_offset in its message", async () => {
    const info = await streamInfo(gw);
    const missing: string[] = [];
    for (const [name, make] of cases) {
      const message: string = (await answer(make(info.last_offset))).body?.error?.message ?? "";
      const names =
        new RegExp(`first_offset\\D{0,8}${info.first_offset}\\b`).test(message) &&
        new RegExp(`last_offset\\D{0,8}${info.last_offset}\\b`).test(message);
      if (!names) missing.push(`${name}: ${JSON.stringify(message)}`);
    }
    expect(missing).toEqual([]);
  });

  it("an unknown stream: 404 not_found", async () => {
    const path = protocol === "sse" ? "/v1/streams/nope/sse" : "/v1/streams/nope/poll?wait=0";
    expectError(await send(gw.url, { path }), 404, "not_found");
  });
});

// Last: purging changes the oldest retained offset for everything that follows.
describe("after a purge below a reader's offset", () => {
  let before: Awaited<ReturnType<typeof streamInfo>>;
  let after: Awaited<ReturnType<typeof streamInfo>>;
  beforeAll(async () => {
    await publishShipped(gw, 5);
    before = await streamInfo(gw);
    await gw.gateway.session.backbone.jsm.streams.purge("orders", { keep: 3 });
    after = await streamInfo(gw);
  });

  it("the stream keeps its epoch and its offsets; the oldest retained offset moves up", () => {
    expect(after.epoch).toBe(before.epoch);
    expect(after.last_offset).toBe(before.last_offset);
    expect(after.first_offset).toBe(before.last_offset - 2);
    expect(after.first_offset).toBeGreaterThan(1);
  });

  describe.each(PROTOCOLS)("%s", (protocol) => {
    it("from=1 gets a gap notice {stream, requested: 1, first, epoch}, then the oldest retained event first", async () => {
      const items = await read(protocol, gw, { from: 1 }, {}, 3);
      expect(items).toEqual([
        { kind: "gap", gap: { stream: "orders", requested: 1, first: after.first_offset, epoch: after.epoch } },
        ...range(after.first_offset, 3).map((offset) => ({ kind: "event", event: expect.objectContaining({ offset }) })),
      ]);
    });

    it("from=<just below the oldest retained offset> gets a gap notice naming that offset", async () => {
      const requested = after.first_offset - 1;
      const items = await read(protocol, gw, { from: requested }, {}, 3);
      expect(items[0]).toEqual({ kind: "gap", gap: { stream: "orders", requested, first: after.first_offset, epoch: after.epoch } });
      expect(shapeOf(items.slice(1))).toEqual(range(after.first_offset, 3));
    });

    it.each<[string, Query]>([
      ["from=first", { from: "first" }],
      ["from=<the oldest retained offset>", { from: -1 }],
      ["last=10", { last: 10 }],
      ["since=<before everything>", { since: "2000-01-01T00:00:00Z" }],
    ])("%s starts at the oldest retained event without a gap notice", async (_name, position) => {
      const query = position.from === -1 ? { from: after.first_offset } : position;
      const items = await read(protocol, gw, query, {}, 3);
      expect(shapeOf(items)).toEqual(range(after.first_offset, 3));
    });

    it("filters still apply after the gap notice", async () => {
      const items = await read(protocol, gw, { from: 1 }, { types: [T.shipped] }, 3);
      expect(shapeOf(items)).toEqual(["gap", ...range(after.first_offset, 3)]);
    });
  });

  it("poll: the gap notice comes once; following next from the gap answer brings no second one", async () => {
    const { answers } = await readPoll(gw, { from: 1 }, {}, 3);
    expect(answers[0]!.gap).toEqual({ stream: "orders", requested: 1, first: after.first_offset, epoch: after.epoch });
    expect(answers.slice(1).map((a) => a.gap)).toEqual(answers.slice(1).map(() => undefined));
  });

  it("sse: a Last-Event-ID below the oldest retained offset gets a gap notice for the offset after it", async () => {
    const sse = await openSse(gw, {}, { headers: { "last-event-id": "1" } });
    try {
      await sse.waitForEvents(3);
      await sse.quiet(200);
      expect(sse.readItems()).toEqual([
        { kind: "gap", gap: { stream: "orders", requested: 2, first: after.first_offset, epoch: after.epoch } },
        ...range(after.first_offset, 3).map((offset) => ({ kind: "event", event: expect.objectContaining({ offset }) })),
      ]);
    } finally {
      await sse.close();
    }
  });

  it("sse: the gap notice is an `event: gap` frame without an id, before the first event", async () => {
    const sse = await openSse(gw, { from: 1 });
    try {
      await sse.waitForEvents(1);
      const [gap, first] = sse.messages().filter((m) => m.data !== undefined);
      expect(gap!.event).toBe("gap");
      expect(gap!.id).toBeUndefined();
      expect(gap!.fields.map(([name]) => name).sort()).toEqual(["data", "event"]);
      expect(JSON.parse(gap!.data!)).toEqual({ stream: "orders", requested: 1, first: after.first_offset, epoch: after.epoch });
      expect(first!.id).toBe(String(after.first_offset));
    } finally {
      await sse.close();
    }
  });
});
