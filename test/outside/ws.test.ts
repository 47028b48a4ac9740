// PROTOCOL.md section 5.4: the WebSocket protocol, JSON and protobuf subprotocols.
import { afterEach, describe, expect, it } from "vitest";
import { Anchor, ClientFrame, ServerFrame } from "../../protocol/generated/streamgate/v1/frames.js";
import {
  decodeOrderShipped,
  encodeOrderShipped,
  envelopeAt,
  openBinaryWs,
  openJsonWs,
  poll,
  publish,
  publishShipped,
  shipped,
  streamInfo,
  uniqueKey,
  wsUrl,
  type JsonObject,
  type WsConnection,
  useStack,
} from "./support.js";

const stack = useStack();
const open: Array<WsConnection<JsonObject> | WsConnection<Uint8Array>> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((ws) => ws.close()));
});

async function json(path = "/v1/ws", protocols?: string[]): Promise<WsConnection<JsonObject>> {
  const ws = await openJsonWs(wsUrl(stack().base, path), protocols);
  open.push(ws);
  return ws;
}

async function proto(): Promise<WsConnection<Uint8Array>> {
  const ws = await openBinaryWs(wsUrl(stack().base, "/v1/ws"), ["streamgate.v1.proto"]);
  open.push(ws);
  return ws;
}

describe("WebSocket, JSON subprotocol (section 5.4)", () => {
  it("negotiates streamgate.v1.json, and uses it when no subprotocol is asked for", async () => {
    expect((await json("/v1/ws", ["streamgate.v1.json"])).ws.protocol).toBe("streamgate.v1.json");
    const plain = await json();
    plain.send({ op: "ping", ref: "p0" });
    expect(await plain.frames.take("pong")).toEqual({ op: "pong", ref: "p0" });
  });

  it("subscribe → subscribed, event frames with the envelope, unsubscribe → unsubscribed", async () => {
    const key = uniqueKey("ws");
    const offsets = await publishShipped(stack().base, key, 2);
    const info = await streamInfo(stack().base, "orders");
    const ws = await json("/v1/ws", ["streamgate.v1.json"]);
    ws.send({ op: "subscribe", sub: "a", stream: "orders", from: offsets[0]!, key, types: ["demo.orders.v1.OrderShipped"] });
    expect(await ws.frames.take("subscribed")).toEqual({
      op: "subscribed",
      sub: "a",
      stream: "orders",
      first_offset: info.first_offset,
      last_offset: info.last_offset,
      epoch: info.epoch,
    });
    for (const offset of offsets) {
      expect(await ws.frames.take(`event ${offset}`)).toEqual({ op: "event", sub: "a", event: await envelopeAt(stack().base, "orders", offset) });
    }
    const [live] = await publishShipped(stack().base, key, 1);
    expect(await ws.frames.take("live event")).toEqual({ op: "event", sub: "a", event: await envelopeAt(stack().base, "orders", live!) });

    ws.send({ op: "unsubscribe", sub: "a" });
    const unsubscribed = await ws.frames.take("unsubscribed");
    expect(unsubscribed).toMatchObject({ op: "unsubscribed", sub: "a" });
    expect(Object.keys(unsubscribed).filter((name) => !["op", "sub", "reason"].includes(name))).toEqual([]);
    await publishShipped(stack().base, key, 1);
    ws.send({ op: "ping", ref: "after" });
    expect(await ws.frames.take("pong after unsubscribe")).toEqual({ op: "pong", ref: "after" });
  });

  it("publish → published; the same id again → duplicate with the first offset", async () => {
    const key = uniqueKey("wspub");
    const ws = await json();
    const frame = { op: "publish", ref: "r1", stream: "orders", type: "demo.orders.v1.OrderShipped", data: { orderId: key, carrier: "dhl" }, id: `${key}-ws` };
    ws.send(frame);
    const published = await ws.frames.take("published");
    expect(published).toEqual({ op: "published", ref: "r1", offset: expect.any(Number), id: `${key}-ws`, duplicate: false });
    ws.send({ ...frame, ref: "r2" });
    expect(await ws.frames.take("duplicate")).toEqual({ op: "published", ref: "r2", offset: published.offset, id: `${key}-ws`, duplicate: true });
    expect(await envelopeAt(stack().base, "orders", published.offset as number)).toMatchObject({ id: `${key}-ws`, key, data: { orderId: key, carrier: "dhl" } });

    ws.send({ op: "publish", ref: "r3", stream: "metrics", data: { name: key, value: 2 } });
    expect(await ws.frames.take("published metric")).toMatchObject({ op: "published", ref: "r3", duplicate: false });
  });

  it("a bad frame gets an error frame and the connection stays usable", async () => {
    const ws = await json();
    const bad: Array<[JsonObject, JsonObject]> = [
      [{ op: "subscribe", sub: "x", stream: "nope" }, { op: "error", sub: "x", code: "not_found" }],
      [{ op: "subscribe", sub: "y", stream: "orders", from: 1, last: 2 }, { op: "error", sub: "y", code: "invalid_argument" }],
      [{ op: "subscribe", sub: "z", stream: "orders", since: "2026-02-30T00:00:00Z" }, { op: "error", sub: "z", code: "invalid_argument" }],
      [{ op: "subscribe", sub: "w", stream: "orders", frm: "first" }, { op: "error", sub: "w", code: "invalid_argument" }],
      [{ op: "subscribe", sub: "v", stream: "orders", from: 9007199254740992 }, { op: "error", sub: "v", code: "invalid_argument" }],
      [{ op: "subscribe", sub: "u", stream: "orders", last: 0 }, { op: "error", sub: "u", code: "invalid_argument" }],
      [{ op: "publish", ref: "p1", stream: "orders", type: "demo.orders.v1.OrderCreated", data: { orderId: "o", items: [{ quantity: -1 }] } }, { op: "error", ref: "p1", code: "invalid_argument" }],
      [{ op: "publish", ref: "p2", stream: "nope", data: {} }, { op: "error", ref: "p2", code: "not_found" }],
      [{ op: "dance", ref: "d1" }, { op: "error", ref: "d1", code: "invalid_argument" }],
    ];
    for (const [frame, expected] of bad) {
      ws.send(frame);
      const error = await ws.frames.take(`error for ${JSON.stringify(frame)}`);
      expect({ frame, error }).toEqual({ frame, error: { ...expected, message: expect.any(String) } });
      expect((error.message as string).length).toBeGreaterThan(0);
    }
    ws.send({ op: "subscribe", sub: "a", stream: "orders", from: "first" });
    expect(await ws.frames.take("subscribed after errors")).toMatchObject({ op: "subscribed", sub: "a" });
    ws.send({ op: "subscribe", sub: "a", stream: "orders" });
    const taken = await ws.frames.takeUntil((frame) => frame.op === "error", "error for a duplicate sub");
    expect(taken[taken.length - 1]).toMatchObject({ op: "error", sub: "a", code: "invalid_argument" });
    ws.send({ op: "ping", ref: "still" });
    await ws.frames.takeUntil((frame) => frame.op === "pong" && frame.ref === "still", "pong");
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
  });

  it("a frame over the size limit closes with 1009", async () => {
    const ws = await json();
    ws.send({ op: "ping", ref: "x".repeat(1_100_000) });
    expect((await ws.closed).code).toBe(1009);
  });

  it("a gap frame carries the notice and the subscription's sub", async () => {
    const info = await streamInfo(stack().base, "orders");
    const ws = await json();
    ws.send({ op: "subscribe", sub: "g", stream: "orders", from: info.last_offset, epoch: "stale" });
    expect(await ws.frames.take("subscribed")).toMatchObject({ op: "subscribed", sub: "g", epoch: info.epoch });
    expect(await ws.frames.take("gap")).toEqual({
      op: "gap",
      sub: "g",
      stream: "orders",
      requested: info.last_offset,
      first: info.first_offset,
      epoch: info.epoch,
    });
    expect(((await ws.frames.take("oldest")).event as JsonObject).offset).toBe(info.first_offset);
  });

  it("/v1/streams/{stream}/ws is one subscription already made, sub = the stream's name", async () => {
    const key = uniqueKey("pre");
    const offsets = await publishShipped(stack().base, key, 2);
    const ws = await json(`/v1/streams/orders/ws?from=${offsets[0]}&key=${key}`);
    expect(await ws.frames.take("subscribed")).toMatchObject({ op: "subscribed", sub: "orders", stream: "orders" });
    for (const offset of offsets) {
      expect(await ws.frames.take(`event ${offset}`)).toEqual({ op: "event", sub: "orders", event: await envelopeAt(stack().base, "orders", offset) });
    }
    ws.send({ op: "ping", ref: "same-protocol" });
    expect(await ws.frames.take("pong")).toEqual({ op: "pong", ref: "same-protocol" });

    await expect(openJsonWs(wsUrl(stack().base, "/v1/streams/orders/ws?from=first&last=2"))).rejects.toThrow("upgrade refused: 400");
    await expect(openJsonWs(wsUrl(stack().base, "/v1/streams/nope/ws"))).rejects.toThrow("upgrade refused: 404");
  });
});

describe("WebSocket, protobuf subprotocol (section 5.4)", () => {
  const send = (ws: WsConnection<Uint8Array>, frame: ClientFrame) => ws.send(ClientFrame.encode(frame).finish());
  const take = async (ws: WsConnection<Uint8Array>, what: string) => ServerFrame.decode(await ws.frames.take(what)).op;

  it("subscribe, event, ping, publish and error frames as streamgate.v1 ClientFrame/ServerFrame", async () => {
    const key = uniqueKey("pbws");
    const [offset] = await publishShipped(stack().base, key, 1);
    const info = await streamInfo(stack().base, "orders");
    const ws = await proto();
    expect(ws.ws.protocol).toBe("streamgate.v1.proto");

    send(ws, { op: { $case: "subscribe", value: { sub: "b", stream: "orders", position: { $case: "anchor", value: Anchor.ANCHOR_FIRST }, epoch: "", types: [], key } } });
    expect(await take(ws, "subscribed")).toEqual({
      $case: "subscribed",
      value: { sub: "b", stream: "orders", firstOffset: BigInt(info.first_offset), lastOffset: BigInt(info.last_offset), epoch: info.epoch },
    });
    const event = await take(ws, "event");
    expect(event?.$case).toBe("event");
    const delivered = event?.$case === "event" ? event.value : undefined;
    const json = await envelopeAt(stack().base, "orders", offset!);
    expect(delivered?.sub).toBe("b");
    expect({ ...delivered?.event, data: undefined, time: undefined }).toEqual({
      stream: "orders",
      offset: BigInt(offset!),
      id: json.id,
      type: "demo.orders.v1.OrderShipped",
      key,
      time: undefined,
      data: undefined,
    });
    expect(decodeOrderShipped(delivered!.event!.data)).toEqual({ orderId: key, carrier: "dhl", trackingNumber: "t-0" });

    send(ws, { op: { $case: "ping", value: { ref: "p" } } });
    expect(await take(ws, "pong")).toEqual({ $case: "pong", value: { ref: "p" } });

    const data = encodeOrderShipped({ orderId: key, carrier: "fedex", trackingNumber: "9" });
    send(ws, { op: { $case: "publish", value: { ref: "r", stream: "orders", type: "demo.orders.v1.OrderShipped", data, id: `${key}-pb` } } });
    const frames = [await take(ws, "published or live event"), await take(ws, "published or live event")];
    const published = frames.find((frame) => frame?.$case === "published");
    expect(published).toEqual({ $case: "published", value: { ref: "r", offset: BigInt(offset! + 1), id: `${key}-pb`, duplicate: false } });
    expect(frames.find((frame) => frame?.$case === "event")).toMatchObject({ $case: "event", value: { sub: "b", event: { offset: BigInt(offset! + 1) } } });

    send(ws, { op: { $case: "subscribe", value: { sub: "n", stream: "nope", position: undefined, epoch: "", types: [] } } });
    expect(await take(ws, "error")).toEqual({ $case: "error", value: { ref: "", sub: "n", code: "not_found", message: expect.any(String) } });
    send(ws, { op: { $case: "publish", value: { ref: "bad", stream: "orders", type: "demo.orders.v1.OrderShipped", data: new Uint8Array([0x0a, 0xff]), id: "" } } });
    expect(await take(ws, "error for bad bytes")).toMatchObject({ $case: "error", value: { ref: "bad", code: "invalid_argument" } });

    send(ws, { op: { $case: "unsubscribe", value: { sub: "b" } } });
    expect(await take(ws, "unsubscribed")).toMatchObject({ $case: "unsubscribed", value: { sub: "b" } });
    send(ws, { op: { $case: "ping", value: { ref: "q" } } });
    expect(await take(ws, "pong after all that")).toEqual({ $case: "pong", value: { ref: "q" } });
  });

  it("a gap arrives as a GapDelivery", async () => {
    const info = await streamInfo(stack().base, "orders");
    const ws = await proto();
    send(ws, { op: { $case: "subscribe", value: { sub: "g", stream: "orders", position: { $case: "from", value: BigInt(info.last_offset) }, epoch: "stale", types: [] } } });
    expect((await take(ws, "subscribed"))?.$case).toBe("subscribed");
    expect(await take(ws, "gap")).toEqual({
      $case: "gap",
      value: { sub: "g", gap: { stream: "orders", requested: BigInt(info.last_offset), first: BigInt(info.first_offset), epoch: info.epoch } },
    });
  });
});
