import { describe, expect, it } from "vitest";
import { ClientFrame } from "../generated/streamgate/v1/frames.js";
import { eventCase } from "../../test/support/protocol-arbitraries.js";
import type { ClientMessage, DecodedClientMessage, FrameProblem, ServerMessage, WireCodec } from "./codec.js";
import type { WireEvent } from "./envelope.js";
import { jsonCodec } from "./json-codec.js";
import { InvalidPositionError } from "./position.js";
import { protoCodec } from "./proto-codec.js";
import type { EventInput } from "./publish.js";
import type { ReadSpec } from "./read-spec.js";

const CODECS: [string, WireCodec][] = [
  ["json", jsonCodec],
  ["proto", protoCodec],
];

const orderBytes = new Uint8Array([10, 6, 111, 114, 100, 45, 49, 55]);
const orderFields = {
  stream: "orders",
  offset: 42,
  id: "ord-17-created",
  type: "demo.orders.v1.OrderCreated",
  key: "ord-17",
  time: new Date("2026-11-22T10:00:00.123Z"),
};
const order = eventCase({ ...orderFields, bytes: orderBytes, data: { orderId: "ord-17", totalCents: "1999" } });
const undecodable = eventCase({ ...order.proto, key: undefined, bytes: new Uint8Array([0xff, 0x01]), data: null });
const gap = { stream: "orders", requested: 2, first: 5, epoch: "e1" };

/** Every ServerMessage op, each in the shapes it comes in. */
const serverMessages = (event: WireEvent): ServerMessage<WireEvent>[] => [
  { op: "subscribed", sub: "s1", stream: "orders", first_offset: 1, last_offset: 9, epoch: "e1" },
  { op: "event", sub: "s1", event },
  { op: "gap", sub: "s1", gap },
  { op: "unsubscribed", sub: "s1" },
  { op: "unsubscribed", sub: "s1", reason: "stream orders was deleted" },
  { op: "published", ref: "r1", offset: 7, id: "ord-1", duplicate: false },
  { op: "published", ref: "r2", offset: 7, id: "ord-1", duplicate: true },
  { op: "error", code: "invalid_argument", message: "the frame is not JSON" },
  { op: "error", ref: "r1", code: "not_found", message: "no stream" },
  { op: "error", sub: "s1", code: "invalid_argument", message: "bad since" },
  { op: "error", ref: "r1", sub: "s1", code: "some_future_code", message: "kept as it is" },
  { op: "pong", ref: "p1" },
  { op: "pong", ref: "" },
  { op: "authed", ref: "a1", expires_at: 1_795_000_000 },
  { op: "authed", ref: "a2" },
  { op: "expiring", expires_at: 1_795_000_000 },
];

const reads: ReadSpec[] = [
  { position: { from: 5 } },
  { position: { from: "first" } },
  { position: { from: "now" } },
  { position: { since: "2026-11-22T10:00:00.123456789Z" } },
  { position: { last: 10 } },
  { position: { from: 3 }, epoch: "e1", types: ["demo.orders.v1.OrderCreated", "demo.orders.v1.OrderShipped"], key: "ord-17" },
  { position: { last: 1 }, key: "" },
];

function decodedOk(decoded: DecodedClientMessage | FrameProblem): DecodedClientMessage {
  if ("problem" in decoded) throw new Error(`decoded to a problem: ${decoded.problem}`);
  return decoded;
}

function problemOf(decoded: DecodedClientMessage | FrameProblem): FrameProblem {
  if (!("problem" in decoded)) throw new Error(`decoded to a ${decoded.op} message, not a problem`);
  return decoded;
}

describe.each(CODECS)("%s: server messages round-trip", (_name, codec) => {
  const expected = (event: typeof order) => (codec === jsonCodec ? event.json : event.proto);

  it.each(serverMessages(order.wire).map((m) => [m.op, m] as const))("%s", (_op, message) => {
    const decoded = codec.decodeServer(codec.encodeServer(message));
    expect(decoded).toEqual(message.op === "event" ? { ...message, event: expected(order) } : message);
  });

  it("event: every field of the received event", () => {
    const decoded = codec.decodeServer(codec.encodeServer({ op: "event", sub: "s1", event: order.wire }));
    if (decoded.op !== "event") throw new Error(`decoded to ${decoded.op}`);
    const { stream, offset, id, type, key, time } = decoded.event;
    expect({ stream, offset, id, type, key, time }).toEqual(orderFields);
    expect(decoded.event.data).toEqual(codec === jsonCodec ? { json: { orderId: "ord-17", totalCents: "1999" } } : { bytes: orderBytes });
  });

  it("event: one the gateway could not decode, without a key", () => {
    const decoded = codec.decodeServer(codec.encodeServer({ op: "event", sub: "s1", event: undecodable.wire }));
    expect(decoded).toEqual({ op: "event", sub: "s1", event: expected(undecodable) });
    if (codec === jsonCodec) expect(decoded).toMatchObject({ event: { key: undefined, data: { undecodable: "/wE=" } } });
  });
});

describe.each(CODECS)("%s: client messages round-trip", (_name, codec) => {
  it.each(reads.map((read) => [JSON.stringify(read), read] as const))("subscribe %s: read() gives the same ReadSpec", (_text, read) => {
    const decoded = decodedOk(codec.decodeClient(codec.encodeClient({ op: "subscribe", sub: "s1", stream: "orders", read })));
    if (decoded.op !== "subscribe") throw new Error(`decoded to ${decoded.op}`);
    expect({ ...decoded, read: decoded.read() }).toEqual({ op: "subscribe", sub: "s1", stream: "orders", read });
  });

  it("unsubscribe, ping and auth", () => {
    const messages: ClientMessage[] = [
      { op: "unsubscribe", sub: "s1" },
      { op: "ping", ref: "p1" },
      { op: "ping", ref: "" },
      { op: "auth", ref: "a1", token: "eyJhbGciOiJIUzI1NiJ9.e30.c2ln" },
    ];
    for (const message of messages) {
      expect(codec.decodeClient(codec.encodeClient(message))).toEqual(message);
    }
  });

  it("publish", () => {
    const type = "demo.orders.v1.OrderCreated";
    const json = { orderId: "ord-17", totalCents: "1999" };
    const events: EventInput[] =
      codec === jsonCodec
        ? [{ type, data: json, key: "ord-17", id: "ord-17-created" }, { data: json }]
        : [{ type, data: orderBytes, key: "ord-17", id: "ord-17-created" }, { type: undefined, key: undefined, id: undefined, data: orderBytes }];
    for (const event of events) {
      const message: ClientMessage = { op: "publish", ref: "r1", stream: "orders", event };
      expect(codec.decodeClient(codec.encodeClient(message))).toEqual(message);
    }
  });

  it("a subscribe with an impossible since cannot be read; the proto form refuses to write one", () => {
    const read = { position: { since: "2026-02-30T00:00:00Z" } };
    if (codec === protoCodec) {
      expect(() => codec.encodeClient({ op: "subscribe", sub: "s1", stream: "orders", read })).toThrow(InvalidPositionError);
      return;
    }
    const decoded = decodedOk(codec.decodeClient(codec.encodeClient({ op: "subscribe", sub: "s1", stream: "orders", read })));
    if (decoded.op !== "subscribe") throw new Error(`decoded to ${decoded.op}`);
    expect(() => decoded.read()).toThrow(InvalidPositionError);
    expect(() => decoded.read()).toThrow("2026-02 has 28 days");
  });
});

describe.each(CODECS)("%s: poll batches round-trip", (_name, codec) => {
  const expected = (event: typeof order) => (codec === jsonCodec ? event.json : event.proto);

  it("without a gap", () => {
    const batch = { events: [order.wire, undecodable.wire], next: 43, first_offset: 1, last_offset: 42 };
    expect(codec.decodeBatch(codec.encodeBatch(batch))).toEqual({ ...batch, events: [expected(order), expected(undecodable)] });
  });

  it("with a gap, and no events", () => {
    const batch = { events: [], next: 5, first_offset: 5, last_offset: 4, gap };
    expect(codec.decodeBatch(codec.encodeBatch(batch))).toEqual(batch);
  });
});

describe("JSON frames are written as PROTOCOL.md 5.4 and 5.2 show them", () => {
  const envelope = order.wire.json;

  it("the envelope has the fields of section 2, key and dataBase64 only when there is one", () => {
    expect(envelope).toBe(
      '{"stream":"orders","offset":42,"id":"ord-17-created","type":"demo.orders.v1.OrderCreated","key":"ord-17","time":"2026-11-22T10:00:00.123Z","data":{"orderId":"ord-17","totalCents":"1999"}}',
    );
    expect(JSON.parse(undecodable.wire.json)).toEqual({ ...JSON.parse(envelope), key: undefined, data: null, dataBase64: "/wE=" });
  });

  it.each([
    [serverMessages(order.wire)[0]!, '{"op":"subscribed","sub":"s1","stream":"orders","first_offset":1,"last_offset":9,"epoch":"e1"}'],
    [serverMessages(order.wire)[1]!, `{"op":"event","sub":"s1","event":${envelope}}`],
    [serverMessages(order.wire)[2]!, '{"op":"gap","sub":"s1","stream":"orders","requested":2,"first":5,"epoch":"e1"}'],
    [serverMessages(order.wire)[3]!, '{"op":"unsubscribed","sub":"s1"}'],
    [serverMessages(order.wire)[4]!, '{"op":"unsubscribed","sub":"s1","reason":"stream orders was deleted"}'],
    [serverMessages(order.wire)[5]!, '{"op":"published","ref":"r1","offset":7,"id":"ord-1","duplicate":false}'],
    [serverMessages(order.wire)[7]!, '{"op":"error","code":"invalid_argument","message":"the frame is not JSON"}'],
    [serverMessages(order.wire)[8]!, '{"op":"error","ref":"r1","code":"not_found","message":"no stream"}'],
    [serverMessages(order.wire)[9]!, '{"op":"error","sub":"s1","code":"invalid_argument","message":"bad since"}'],
    [serverMessages(order.wire)[11]!, '{"op":"pong","ref":"p1"}'],
    [serverMessages(order.wire)[13]!, '{"op":"authed","ref":"a1","expires_at":1795000000}'],
    [serverMessages(order.wire)[14]!, '{"op":"authed","ref":"a2"}'],
    [serverMessages(order.wire)[15]!, '{"op":"expiring","expires_at":1795000000}'],
  ])("server %o", (message, frame) => {
    expect(jsonCodec.encodeServer(message)).toBe(frame);
  });

  it("a gap notice carries only its four fields", () => {
    const noisy = { ...gap, extra: "not on the wire" };
    expect(jsonCodec.encodeServer({ op: "gap", sub: "s1", gap: noisy })).toBe('{"op":"gap","sub":"s1","stream":"orders","requested":2,"first":5,"epoch":"e1"}');
  });

  it.each([
    [{ op: "subscribe", sub: "s1", stream: "orders", read: { position: { from: 5 }, epoch: "e1", types: ["a", "b"], key: "k" } }, '{"op":"subscribe","sub":"s1","stream":"orders","from":5,"epoch":"e1","types":["a","b"],"key":"k"}'],
    [{ op: "subscribe", sub: "s1", stream: "orders", read: { position: { since: new Date("2026-11-22T10:00:00.123Z") } } }, '{"op":"subscribe","sub":"s1","stream":"orders","since":"2026-11-22T10:00:00.123Z"}'],
    [{ op: "subscribe", sub: "s1", stream: "orders", read: { position: { last: 3 } } }, '{"op":"subscribe","sub":"s1","stream":"orders","last":3}'],
    [{ op: "unsubscribe", sub: "s1" }, '{"op":"unsubscribe","sub":"s1"}'],
    [{ op: "publish", ref: "r1", stream: "orders", event: { type: "t", data: { a: 1 }, key: "k", id: "i" } }, '{"op":"publish","ref":"r1","stream":"orders","type":"t","data":{"a":1},"key":"k","id":"i"}'],
    [{ op: "ping", ref: "p1" }, '{"op":"ping","ref":"p1"}'],
    [{ op: "auth", ref: "a1", token: "t" }, '{"op":"auth","ref":"a1","token":"t"}'],
  ] as [ClientMessage, string][])("client %o", (message, frame) => {
    expect(jsonCodec.encodeClient(message)).toBe(frame);
  });

  it("a poll batch (section 5.2)", () => {
    expect(jsonCodec.encodeBatch({ events: [order.wire], next: 43, first_offset: 1, last_offset: 42, gap })).toBe(
      `{"events":[${envelope}],"next":43,"first_offset":1,"last_offset":42,"gap":{"stream":"orders","requested":2,"first":5,"epoch":"e1"}}`,
    );
    expect(jsonCodec.encodeBatch({ events: [], next: 43, first_offset: 1, last_offset: 42 })).toBe('{"events":[],"next":43,"first_offset":1,"last_offset":42}');
  });
});

describe("bad frames decode to a problem, echoing ref and sub when they can be read", () => {
  const long = "x".repeat(129);
  const proto = (op: ClientFrame["op"]) => ClientFrame.encode({ op }).finish();

  it.each([
    ["not JSON", "{op:", "not JSON", {}],
    ["JSON that is not an object", "[1,2]", "", {}],
    ["null", "null", "", {}],
    ["a wrong op", '{"op":"subscribe-all","sub":"s1"}', "op", { sub: "s1" }],
    ["no op", '{"sub":"s1"}', "op", { sub: "s1" }],
    ["an unknown field", '{"op":"subscribe","sub":"s1","stream":"orders","frm":"first"}', "frm", { sub: "s1" }],
    ["a from that is no position", '{"op":"subscribe","sub":"s1","stream":"orders","from":"last"}', "from", { sub: "s1" }],
    ["a sub of 129 characters", `{"op":"subscribe","sub":"${long}","stream":"orders"}`, "sub", { sub: long }],
    ["an empty sub", '{"op":"unsubscribe","sub":""}', "sub", { sub: "" }],
    ["a publish ref of 129 characters", `{"op":"publish","ref":"${long}","stream":"orders","data":{}}`, "ref", { ref: long }],
    ["a ping ref of 129 characters", `{"op":"ping","ref":"${long}"}`, "ref", { ref: long }],
    ["a publish id the protocol does not allow", '{"op":"publish","ref":"r1","stream":"orders","data":{},"id":"a b"}', "id", { ref: "r1" }],
    ["publish data that is not an object", '{"op":"publish","ref":"r1","stream":"orders","data":[1]}', "data", { ref: "r1" }],
    ["an auth without a token", '{"op":"auth","ref":"a1"}', "token", { ref: "a1" }],
    ["an auth with an empty token", '{"op":"auth","ref":"a1","token":""}', "token", { ref: "a1" }],
    ["an auth without a ref", '{"op":"auth","token":"t"}', "ref", {}],
  ])("json: %s", (_what, frame, named, echo) => {
    const problem = problemOf(jsonCodec.decodeClient(frame));
    expect(problem.problem).toContain(named);
    expect(problem).toEqual({ problem: problem.problem, ...echo });
  });

  it("json: a binary frame", () => {
    expect(problemOf(jsonCodec.decodeClient(new TextEncoder().encode('{"op":"ping","ref":"p1"}'))).problem).toBe("binary frames are not part of streamgate.v1.json");
  });

  it("proto: a text frame", () => {
    expect(problemOf(protoCodec.decodeClient('{"op":"ping","ref":"p1"}')).problem).toBe("text frames are not part of streamgate.v1.proto");
  });

  it.each([
    ["garbage bytes", new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), "not a streamgate.v1.ClientFrame"],
    ["a truncated frame", proto({ $case: "ping", value: { ref: "p1" } }).slice(0, 3), "not a streamgate.v1.ClientFrame"],
    ["no operation", new Uint8Array(), "no operation"],
    ["a sub of 129 characters", proto({ $case: "unsubscribe", value: { sub: long } }), "sub must be 1 to 128 characters"],
    ["an empty sub", proto({ $case: "subscribe", value: { sub: "", stream: "orders", position: undefined, epoch: "", types: [] } }), "sub must be 1 to 128 characters"],
    ["a publish ref of 129 characters", proto({ $case: "publish", value: { ref: long, stream: "orders", type: "", data: new Uint8Array(), id: "" } }), "ref must be"],
    ["a ping ref of 129 characters", proto({ $case: "ping", value: { ref: long } }), "ref must be"],
    ["an auth without a ref", proto({ $case: "auth", value: { ref: "", token: "t" } }), "ref must be 1 to 128 characters"],
    ["an auth without a token", proto({ $case: "auth", value: { ref: "a1", token: "" } }), "token must not be empty"],
  ])("proto: %s", (_what, frame, named) => {
    expect(problemOf(protoCodec.decodeClient(frame)).problem).toContain(named);
  });
});

describe("JSON frames are parsed as strictly as HTTP bodies", () => {
  it.each(['{"op":"publish","ref":"r","stream":"orders","data":{"__proto__":{"x":1}}}', '{"op":"ping","ref":"r","constructor":{"prototype":{}}}'])(
    "a __proto__ or constructor key is refused, not silently dropped: %s",
    (frame) => {
      const decoded = jsonCodec.decodeClient(frame);
      expect(decoded).toEqual({ problem: "the frame is not JSON (or holds a __proto__ or constructor key)" });
    },
  );

  it("an empty epoch names no generation, in every form", () => {
    const decoded = jsonCodec.decodeClient('{"op":"subscribe","sub":"s","stream":"orders","from":1,"epoch":""}');
    expect("op" in decoded && decoded.op === "subscribe" && decoded.read()).toEqual({ position: { from: 1 } });
  });
});
