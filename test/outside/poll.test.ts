// PROTOCOL.md section 5.2: long polling and short polling, JSON and protobuf.
import { describe, expect, it } from "vitest";
import { EventBatch } from "../../protocol/generated/streamgate/v1/event.js";
import {
  decodeOrderShipped,
  offsetsOf,
  poll,
  postJson,
  publish,
  publishShipped,
  shipped,
  streamInfo,
  uniqueKey,
  type Json,
  type JsonObject,
  useStack,
} from "./support.js";

const stack = useStack();

describe("long and short polling (section 5.2)", () => {
  it("wait=0 answers at once with {events,next,first_offset,last_offset}", async () => {
    const key = uniqueKey("short");
    const offsets = await publishShipped(stack().base, key, 2);
    const info = await streamInfo(stack().base, "orders");
    const started = Date.now();
    const reply = await poll(stack().base, "orders", `from=${offsets[0]}&key=${key}&wait=0`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(reply.json).sort()).toEqual(["events", "first_offset", "last_offset", "next"]);
    expect(reply.json).toMatchObject({ next: offsets[1]! + 1, first_offset: info.first_offset, last_offset: info.last_offset });
    expect(offsetsOf(reply.json.events as Json[])).toEqual(offsets);

    const empty = await poll(stack().base, "orders", `from=now&key=${key}&wait=0`);
    expect(empty.json).toEqual({ events: [], next: info.last_offset + 1, first_offset: info.first_offset, last_offset: info.last_offset });
  });

  it("max caps an answer and next chains polls with nothing lost or repeated", async () => {
    const key = uniqueKey("chain");
    const offsets = await publishShipped(stack().base, key, 5);
    const seen: number[] = [];
    let from = offsets[0]!;
    for (let round = 0; round < 3; round += 1) {
      const reply = await poll(stack().base, "orders", `from=${from}&key=${key}&max=2&wait=0`);
      const got = offsetsOf(reply.json.events as Json[]);
      expect(got.length).toBe(round < 2 ? 2 : 1);
      seen.push(...got);
      from = reply.json.next as number;
      expect(from).toBe(got[got.length - 1]! + 1);
    }
    expect(seen).toEqual(offsets);

    // A filter passes over other events; next still moves past everything read.
    await publishShipped(stack().base, uniqueKey("noise"), 2);
    const info = await streamInfo(stack().base, "orders");
    const passed = await poll(stack().base, "orders", `from=${from}&key=${key}&wait=0`);
    expect(passed.json.events).toEqual([]);
    expect(passed.json.next).toBe(info.last_offset + 1);

    const many = uniqueKey("many");
    const batch = await postJson(`${stack().base}/v1/streams/orders/events:batch`, {
      events: Array.from({ length: 101 }, (_, n) => shipped(many, n)),
    });
    expect(batch.status).toBe(201);
    const defaults = await poll(stack().base, "orders", `key=${many}&from=first&wait=0`);
    const firstOfMany = (batch.json.results as JsonObject[])[0]!.offset as number;
    expect(offsetsOf(defaults.json.events as Json[])).toEqual(Array.from({ length: 100 }, (_, n) => firstOfMany + n));
    expect(defaults.json.next).toBe(firstOfMany + 100);
  });

  it("Accept: application/x-protobuf answers with a streamgate.v1.EventBatch", async () => {
    const key = uniqueKey("pb");
    const offsets = await publishShipped(stack().base, key, 2);
    const info = await streamInfo(stack().base, "orders");
    const jsonTwin = await poll(stack().base, "orders", `from=${offsets[0]}&key=${key}&wait=0`);
    const res = await fetch(`${stack().base}/v1/streams/orders/poll?from=${offsets[0]}&key=${key}&wait=0`, {
      headers: { accept: "application/x-protobuf" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-protobuf/);
    const batch = EventBatch.decode(new Uint8Array(await res.arrayBuffer()));
    expect(batch.next).toBe(BigInt(offsets[1]! + 1));
    expect(batch.firstOffset).toBe(BigInt(info.first_offset));
    expect(batch.lastOffset).toBe(BigInt(info.last_offset));
    expect(batch.gap).toBeUndefined();
    expect(batch.events.map((event) => event.offset)).toEqual(offsets.map(BigInt));
    const json = (jsonTwin.json.events as JsonObject[])[1]!;
    const event = batch.events[1]!;
    expect({ stream: event.stream, id: event.id, type: event.type, key: event.key }).toEqual({
      stream: "orders",
      id: json.id,
      type: "demo.orders.v1.OrderShipped",
      key,
    });
    const millis = Number(event.time!.seconds) * 1000 + Math.floor(event.time!.nanos / 1e6);
    expect(millis).toBe(Date.parse(String(json.time)));
    expect(decodeOrderShipped(event.data)).toEqual({ orderId: key, carrier: "dhl", trackingNumber: "t-1" });

    const gapRes = await fetch(`${stack().base}/v1/streams/orders/poll?from=${offsets[0]}&epoch=stale&wait=0&max=1`, {
      headers: { accept: "application/x-protobuf" },
    });
    const gapBatch = EventBatch.decode(new Uint8Array(await gapRes.arrayBuffer()));
    expect(gapBatch.gap).toEqual({ stream: "orders", requested: BigInt(offsets[0]!), first: BigInt(info.first_offset), epoch: info.epoch });
  });

  it("a long poll answers as soon as an event arrives", async () => {
    const key = uniqueKey("long");
    const info = await streamInfo(stack().base, "orders");
    const started = Date.now();
    const pending = poll(stack().base, "orders", `from=${info.last_offset + 1}&key=${key}&wait=20`);
    const [offset] = await publishShipped(stack().base, key, 1);
    const reply = await pending;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(offsetsOf(reply.json.events as Json[])).toEqual([offset]);
    expect(reply.json.next).toBe(offset! + 1);
  });

  it("a long poll with a short wait answers on time with no events", async () => {
    const key = uniqueKey("quiet");
    const started = Date.now();
    const reply = await poll(stack().base, "orders", `key=${key}&wait=1`);
    const elapsed = Date.now() - started;
    expect(reply.status).toBe(200);
    expect(reply.json.events).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(4_000);
  });
});
