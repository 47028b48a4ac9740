// PROTOCOL.md section 3: where reading starts, gaps, filters and resuming across protocols.
import { describe, expect, it } from "vitest";
import {
  errorOf,
  field,
  nextData,
  offsetsOf,
  openJsonWs,
  openSse,
  poll,
  publish,
  publishShipped,
  purgeStream,
  shipped,
  streamInfo,
  uniqueKey,
  wsUrl,
  type Json,
  type JsonObject,
  useStack,
} from "./support.js";

const stack = useStack();

async function pollEvents(query: string): Promise<JsonObject[]> {
  const reply = await poll(stack().base, "orders", `${query}&wait=0`);
  expect(reply.status, reply.text).toBe(200);
  return reply.json.events as JsonObject[];
}

describe("positions (section 3)", () => {
  it("from=<offset> starts there, inclusive; from=first at the oldest retained event", async () => {
    const key = uniqueKey("pos");
    const offsets = await publishShipped(stack().base, key, 3);
    expect(offsetsOf(await pollEvents(`from=${offsets[1]}&key=${key}`))).toEqual(offsets.slice(1));
    const info = await streamInfo(stack().base, "orders");
    const first = await pollEvents("from=first&max=1");
    expect(offsetsOf(first)).toEqual([info.first_offset]);
  });

  it("from=now (and no position at all) delivers only events stored after the read starts", async () => {
    const key = uniqueKey("now");
    await publishShipped(stack().base, key, 2);
    for (const position of ["from=now&", ""]) {
      const ws = await openJsonWs(wsUrl(stack().base, `/v1/streams/orders/ws?${position}key=${key}`));
      const subscribed = await ws.frames.take("subscribed");
      expect(subscribed.op).toBe("subscribed");
      const [later] = await publishShipped(stack().base, key, 1);
      const frame = await ws.frames.take("live event");
      expect((frame.event as JsonObject).offset).toBe(later);
      expect(ws.frames.pending).toEqual([]);
      await ws.close();
    }
    const sse = await openSse(`${stack().base}/v1/streams/orders/sse?key=${key}`);
    await sse.blocks.take("retry block");
    const [later] = await publishShipped(stack().base, key, 1);
    const block = await nextData(sse, "live SSE event");
    expect(field(block, "id")).toBe(String(later));
    sse.close();
  });

  it("since=<RFC 3339> starts at the first event stored at or after that time", async () => {
    const key = uniqueKey("since");
    const [before] = await publishShipped(stack().base, key, 1);
    const beforeTime = Date.parse(String((await pollEvents(`from=${before}&max=1`))[0]!.time));
    // The first event stored in a later millisecond than `before` (the envelope's time has ms).
    let start: JsonObject | undefined;
    for (let tries = 0; tries < 50 && !start; tries += 1) {
      const [offset] = await publishShipped(stack().base, key, 1);
      const event = (await pollEvents(`from=${offset}&max=1`))[0]!;
      if (Date.parse(String(event.time)) > beforeTime) start = event;
    }
    expect(start, "an event stored in a later millisecond").toBeDefined();
    const fromStart = await pollEvents(`since=${encodeURIComponent(String(start!.time))}&key=${key}`);
    expect(fromStart[0]!.offset).toBe(start!.offset);
    expect(offsetsOf(fromStart)).not.toContain(before);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await poll(stack().base, "orders", `since=${encodeURIComponent(future)}&key=${key}&wait=0`);
    expect(none.json.events).toEqual([]);
  });

  it("last=<n> gives the stream's last n events, then live", async () => {
    const key = uniqueKey("last");
    const offsets = await publishShipped(stack().base, key, 4);
    expect(offsetsOf(await pollEvents("last=2"))).toEqual(offsets.slice(2));
    const ws = await openJsonWs(wsUrl(stack().base, "/v1/ws"));
    ws.send({ op: "subscribe", sub: "l", stream: "orders", last: 3 });
    expect((await ws.frames.take("subscribed")).op).toBe("subscribed");
    const replayed = [await ws.frames.take("1"), await ws.frames.take("2"), await ws.frames.take("3")];
    expect(replayed.map((frame) => (frame.event as JsonObject).offset)).toEqual(offsets.slice(1));
    const [live] = await publishShipped(stack().base, key, 1);
    expect(((await ws.frames.take("live")).event as JsonObject).offset).toBe(live);
    await ws.close();

    for (const bad of ["last=0", "last=10001", "last=two"]) {
      const reply = await poll(stack().base, "orders", `${bad}&wait=0`);
      expect({ bad, status: reply.status }).toEqual({ bad, status: 400 });
      expect(errorOf(reply).code).toBe("invalid_argument");
    }
  });

  it("two positions at once, a malformed one, or from above last+1 is a 400 naming first_offset/last_offset", async () => {
    await publishShipped(stack().base, uniqueKey("bad"), 1);
    const info = await streamInfo(stack().base, "orders");
    const bounds = new RegExp(`first_offset\\D*${info.first_offset}\\b[\\s\\S]*last_offset\\D*${info.last_offset}\\b`);
    const cases = [
      "from=1&last=3",
      "from=first&since=2026-01-01T00:00:00Z",
      "since=2026-01-01T00:00:00Z&last=1",
      "from=abc",
      "from=-1",
      "from=0",
      "since=yesterday",
      `from=${info.last_offset + 2}`,
      "from=9007199254740992",
    ];
    for (const query of cases) {
      for (const path of ["poll", "sse"]) {
        const reply = await fetch(`${stack().base}/v1/streams/orders/${path}?${query}`);
        const text = await reply.text();
        expect({ path, query, status: reply.status }).toEqual({ path, query, status: 400 });
        const error = errorOf({ status: reply.status, headers: reply.headers, text, json: JSON.parse(text) });
        expect(error.code).toBe("invalid_argument");
        expect({ query, message: error.message }).toEqual({ query, message: expect.stringMatching(bounds) });
      }
    }
    // from = last_offset + 1 is the next event to come: allowed.
    const next = await poll(stack().base, "orders", `from=${info.last_offset + 1}&wait=0`);
    expect(next.status).toBe(200);
    expect(next.json.events).toEqual([]);
  });

  it("an epoch that no longer matches gives a gap notice, then delivery from the oldest event", async () => {
    const info = await streamInfo(stack().base, "orders");
    const reply = await poll(stack().base, "orders", `from=${info.last_offset}&epoch=not-the-epoch&wait=0&max=1`);
    expect(reply.status).toBe(200);
    expect(reply.json.gap).toEqual({
      stream: "orders",
      requested: info.last_offset,
      first: info.first_offset,
      epoch: info.epoch,
    });
    expect(offsetsOf(reply.json.events as Json[])).toEqual([info.first_offset]);

    const same = await poll(stack().base, "orders", `from=${info.last_offset}&epoch=${info.epoch}&wait=0&max=1`);
    expect(same.json).not.toHaveProperty("gap");
    expect(offsetsOf(same.json.events as Json[])).toEqual([info.last_offset]);
  });

  it("types and key filters select events; skipped offsets are not a gap", async () => {
    const key = uniqueKey("filter");
    const other = uniqueKey("other");
    const created = await publish(stack().base, "orders", { type: "demo.orders.v1.OrderCreated", data: { orderId: key } });
    const [ship] = await publishShipped(stack().base, key, 1);
    await publishShipped(stack().base, other, 1);
    const cancelled = await publish(stack().base, "orders", { type: "demo.orders.v1.OrderCancelled", data: { orderId: key } });
    const from = `from=${created.offset}`;

    expect(offsetsOf(await pollEvents(`${from}&key=${key}`))).toEqual([created.offset, ship, cancelled.offset]);
    const types = "types=demo.orders.v1.OrderCreated,demo.orders.v1.OrderCancelled";
    const typed = await poll(stack().base, "orders", `${from}&${types}&key=${key}&wait=0`);
    expect(offsetsOf(typed.json.events as Json[])).toEqual([created.offset, cancelled.offset]);
    expect(typed.json).not.toHaveProperty("gap");
    expect(offsetsOf(await pollEvents(`${from}&types=demo.orders.v1.OrderShipped&key=${other}`))).toHaveLength(1);

    const sse = await openSse(`${stack().base}/v1/streams/orders/sse?${from}&${types}&key=${key}`);
    const ids = [field(await nextData(sse, "first"), "id"), field(await nextData(sse, "second"), "id")];
    expect(ids).toEqual([String(created.offset), String(cancelled.offset)]);
    sse.close();

    const ws = await openJsonWs(wsUrl(stack().base, "/v1/ws"));
    ws.send({ op: "subscribe", sub: "f", stream: "orders", from: created.offset, types: ["demo.orders.v1.OrderShipped"], key });
    expect((await ws.frames.take("subscribed")).op).toBe("subscribed");
    expect(((await ws.frames.take("event")).event as JsonObject).offset).toBe(ship);
    await ws.close();

    const unknownType = await poll(stack().base, "orders", "types=demo.orders.v1.Nope&wait=0");
    expect(unknownType.status).toBe(400);
    expect(errorOf(unknownType).message).toContain("demo.orders.v1.Nope");
  });

  it("a key filter matches that key exactly, also with spaces, unicode and NATS wildcard characters", async () => {
    const base = uniqueKey("odd");
    const keys = [`${base} with space`, `${base}.dot`, `${base}/é`, ">", "*", `${base}*`];
    const offsets = new Map<string, number>();
    for (const key of keys) offsets.set(key, (await publish(stack().base, "orders", shipped(key, 0))).offset);
    const from = Math.min(...offsets.values());
    for (const key of keys) {
      const reply = await poll(stack().base, "orders", `from=${from}&key=${encodeURIComponent(key)}&wait=0`);
      expect({ key, offsets: offsetsOf(reply.json.events as Json[]) }).toEqual({ key, offsets: [offsets.get(key)] });
      expect((reply.json.events as JsonObject[])[0]!.key).toBe(key);
    }
  });

  it("resuming from last seen + 1 across SSE, long poll and WebSocket loses and repeats nothing", async () => {
    const key = uniqueKey("resume");
    const offsets = await publishShipped(stack().base, key, 5);
    const seen: number[] = [];

    const sse = await openSse(`${stack().base}/v1/streams/orders/sse?from=${offsets[0]}&key=${key}`);
    for (let n = 0; n < 2; n += 1) seen.push(Number(field(await nextData(sse, `SSE ${n}`), "id")));
    sse.close();

    const polled = await poll(stack().base, "orders", `from=${seen[seen.length - 1]! + 1}&key=${key}&max=2&wait=0`);
    seen.push(...offsetsOf(polled.json.events as Json[]));
    expect(polled.json.next).toBe(seen[seen.length - 1]! + 1);

    const ws = await openJsonWs(wsUrl(stack().base, "/v1/ws"));
    ws.send({ op: "subscribe", sub: "r", stream: "orders", from: polled.json.next as number, key });
    expect((await ws.frames.take("subscribed")).op).toBe("subscribed");
    seen.push(((await ws.frames.take("stored")).event as JsonObject).offset as number);
    const [live] = await publishShipped(stack().base, key, 1);
    seen.push(((await ws.frames.take("live")).event as JsonObject).offset as number);
    await ws.close();

    expect(seen).toEqual([...offsets, live]);
  });

  it("after a purge, from=1 gives a gap notice and then the oldest retained event, on every protocol", async () => {
    const key = uniqueKey("purge");
    await publishShipped(stack().base, key, 2);
    await purgeStream(stack().nats.url, "orders");
    const [oldest] = await publishShipped(stack().base, key, 1);
    const info = await streamInfo(stack().base, "orders");
    expect(info.first_offset).toBe(oldest);
    const notice = { stream: "orders", requested: 1, first: oldest, epoch: info.epoch };

    const polled = await poll(stack().base, "orders", "from=1&wait=0");
    expect(polled.status).toBe(200);
    expect(polled.json.gap).toEqual(notice);
    expect(offsetsOf(polled.json.events as Json[])).toEqual([oldest]);

    const sse = await openSse(`${stack().base}/v1/streams/orders/sse?from=1`);
    const gap = await nextData(sse, "SSE gap");
    expect(field(gap, "event")).toBe("gap");
    expect(field(gap, "id")).toBeUndefined();
    expect(JSON.parse(field(gap, "data")!)).toEqual(notice);
    expect(field(await nextData(sse, "SSE oldest"), "id")).toBe(String(oldest));
    sse.close();

    const ws = await openJsonWs(wsUrl(stack().base, "/v1/ws"));
    ws.send({ op: "subscribe", sub: "p", stream: "orders", from: 1 });
    const frames = [await ws.frames.take("subscribed"), await ws.frames.take("gap"), await ws.frames.take("event")];
    expect(frames[0]!.op).toBe("subscribed");
    expect(frames[1]).toEqual({ op: "gap", sub: "p", ...notice });
    expect((frames[2]!.event as JsonObject).offset).toBe(oldest);
    await ws.close();
  });
});
