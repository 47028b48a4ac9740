/**
 * WebSocket frames the gateway must refuse (PROTOCOL.md 5.3: `{"op":"error","ref"?,"sub"?,
 * "code","message"}`, and a bad frame never closes the connection), then the limits: frame
 * size (close 1009), subscriptions per connection, frames per second.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricSample } from "../../generated/ts/demo/metrics/v1/metrics.js";
import { OrderShipped } from "../../generated/ts/demo/orders/v1/orders.js";
import { ClientFrame } from "../../protocol/generated/streamgate/v1/frames.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { sleep } from "../support/wait.js";
import { WsClient, jsonish, toClientFrame, uid, wsUrl, type ClientOp, type Kind, type MsgOf } from "../support/ws-client.js";

const ORDER_CREATED = "demo.orders.v1.OrderCreated";
const ORDER_SHIPPED = "demo.orders.v1.OrderShipped";
const METRIC = "demo.metrics.v1.MetricSample";
const CODES = ["invalid_argument", "unauthenticated", "permission_denied", "not_found", "payload_too_large", "unsupported_media_type", "rate_limited", "unavailable", "internal"];

interface Ctx {
  /** The orders stream's last offset when the row runs. */
  lastOffset: number;
}

interface BadFrame {
  name: string;
  kind: Kind;
  /** An operation (sent in the connection's subprotocol) or a raw frame: a string goes as a text frame, bytes as a binary one. */
  frame: (ctx: Ctx) => ClientOp | string | Uint8Array;
  /** The expected code; several when the protocol leaves a choice. */
  code: string | string[];
  /** Echoed in the error frame; absent when not given here. */
  ref?: string;
  sub?: string;
  message?: (ctx: Ctx) => RegExp;
}

const text = (s: string) => s;
const binary = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const proto = (op: ClientOp) => ClientFrame.encode(toClientFrame(op)).finish();
const sub = (fields: Record<string, unknown>): ClientOp => ({ op: "subscribe", stream: "orders", ...fields });
const created = { orderId: "o-1" };

const rows: BadFrame[] = [
  // --- JSON: frames that are not operations
  { name: "not JSON", kind: "json", frame: () => text('{"op":"ping"'), code: "invalid_argument" },
  { name: "empty text frame", kind: "json", frame: () => text(""), code: "invalid_argument" },
  { name: "JSON array", kind: "json", frame: () => text('[{"op":"ping","ref":"r"}]'), code: "invalid_argument" },
  { name: "JSON string", kind: "json", frame: () => text('"ping"'), code: "invalid_argument" },
  { name: "JSON number", kind: "json", frame: () => text("42"), code: "invalid_argument" },
  { name: "JSON null", kind: "json", frame: () => text("null"), code: "invalid_argument" },
  { name: "no op", kind: "json", frame: () => ({ ref: "r-noop" }) as unknown as ClientOp, code: "invalid_argument", ref: "r-noop" },
  { name: "unknown op", kind: "json", frame: () => ({ op: "dance", ref: "r-dance" }), code: "invalid_argument", ref: "r-dance" },
  { name: "op of the wrong type", kind: "json", frame: () => ({ op: 1, sub: "s-op1" }) as unknown as ClientOp, code: "invalid_argument", sub: "s-op1" },
  // --- JSON: missing fields
  { name: "subscribe without sub", kind: "json", frame: () => sub({}), code: "invalid_argument" },
  { name: "subscribe without stream", kind: "json", frame: () => ({ op: "subscribe", sub: "s-nostream" }), code: "invalid_argument", sub: "s-nostream" },
  { name: "subscribe with an empty sub", kind: "json", frame: () => sub({ sub: "" }), code: "invalid_argument" },
  { name: "unsubscribe without sub", kind: "json", frame: () => ({ op: "unsubscribe" }), code: "invalid_argument" },
  { name: "publish without data", kind: "json", frame: () => ({ op: "publish", ref: "r-nodata", stream: "orders", type: ORDER_CREATED }), code: "invalid_argument", ref: "r-nodata" },
  { name: "publish without ref", kind: "json", frame: () => ({ op: "publish", stream: "orders", type: ORDER_CREATED, data: created }), code: "invalid_argument" },
  { name: "publish without stream", kind: "json", frame: () => ({ op: "publish", ref: "r-nostream", type: ORDER_CREATED, data: created }), code: "invalid_argument", ref: "r-nostream" },
  // --- JSON: wrong field types
  { name: "sub a number", kind: "json", frame: () => sub({ sub: 42 }), code: "invalid_argument" },
  { name: "stream a number", kind: "json", frame: () => ({ op: "subscribe", sub: "s-stream1", stream: 1 }), code: "invalid_argument", sub: "s-stream1" },
  { name: "types a string", kind: "json", frame: () => sub({ sub: "s-typesstr", types: ORDER_SHIPPED }), code: "invalid_argument", sub: "s-typesstr" },
  { name: "key a number", kind: "json", frame: () => sub({ sub: "s-key5", key: 5 }), code: "invalid_argument", sub: "s-key5" },
  { name: "from true", kind: "json", frame: () => sub({ sub: "s-fromtrue", from: true }), code: "invalid_argument", sub: "s-fromtrue" },
  { name: "last a string", kind: "json", frame: () => sub({ sub: "s-laststr", last: "5" }), code: "invalid_argument", sub: "s-laststr" },
  { name: "ping ref a number", kind: "json", frame: () => ({ op: "ping", ref: 7 }), code: "invalid_argument" },
  { name: "auth without token", kind: "json", frame: () => ({ op: "auth", ref: "r-notoken" }), code: "invalid_argument", ref: "r-notoken" },
  // --- auth is off on this gateway (PROTOCOL.md 9.3's auth frame has nothing to do)
  { name: "auth while auth is off", kind: "json", frame: () => ({ op: "auth", ref: "r-authoff", token: "t" }), code: "invalid_argument", ref: "r-authoff", message: () => /auth is off/ },
  { name: "publish data a string", kind: "json", frame: () => ({ op: "publish", ref: "r-datastr", stream: "orders", type: ORDER_CREATED, data: "x" }), code: "invalid_argument", ref: "r-datastr" },
  { name: "publish data an array", kind: "json", frame: () => ({ op: "publish", ref: "r-dataarr", stream: "orders", type: ORDER_CREATED, data: [] }), code: "invalid_argument", ref: "r-dataarr" },
  // --- JSON: unknown names
  { name: "subscribe to an unknown stream", kind: "json", frame: () => sub({ sub: "s-nope", stream: "nope" }), code: "not_found", sub: "s-nope", message: () => /nope/ },
  { name: "publish to an unknown stream", kind: "json", frame: () => ({ op: "publish", ref: "r-nope", stream: "nope", type: ORDER_CREATED, data: created }), code: "not_found", ref: "r-nope" },
  { name: "unknown type in types", kind: "json", frame: () => sub({ sub: "s-badtype", types: [ORDER_SHIPPED, METRIC] }), code: "invalid_argument", sub: "s-badtype", message: () => /MetricSample/ },
  { name: "empty key filter", kind: "json", frame: () => sub({ sub: "s-emptykey", key: "" }), code: "invalid_argument", sub: "s-emptykey" },
  // --- JSON: positions
  { name: "from 0", kind: "json", frame: () => sub({ sub: "s-from0", from: 0 }), code: "invalid_argument", sub: "s-from0" },
  { name: "from -1", kind: "json", frame: () => sub({ sub: "s-fromneg", from: -1 }), code: "invalid_argument", sub: "s-fromneg" },
  { name: "from 1.5", kind: "json", frame: () => sub({ sub: "s-fromfrac", from: 1.5 }), code: "invalid_argument", sub: "s-fromfrac" },
  { name: 'from "x"', kind: "json", frame: () => sub({ sub: "s-fromx", from: "x" }), code: "invalid_argument", sub: "s-fromx" },
  { name: "from 2^53 (above 2^53-1)", kind: "json", frame: () => text('{"op":"subscribe","sub":"s-from53","stream":"orders","from":9007199254740992}'), code: "invalid_argument", sub: "s-from53" },
  { name: "last 0", kind: "json", frame: () => sub({ sub: "s-last0", last: 0 }), code: "invalid_argument", sub: "s-last0" },
  { name: "last 10001", kind: "json", frame: () => sub({ sub: "s-last10001", last: 10_001 }), code: "invalid_argument", sub: "s-last10001" },
  { name: "last 2.5", kind: "json", frame: () => sub({ sub: "s-lastfrac", last: 2.5 }), code: "invalid_argument", sub: "s-lastfrac" },
  { name: 'since "yesterday"', kind: "json", frame: () => sub({ sub: "s-yesterday", since: "yesterday" }), code: "invalid_argument", sub: "s-yesterday" },
  { name: "since without a zone", kind: "json", frame: () => sub({ sub: "s-nozone", since: "2026-01-01T00:00:00" }), code: "invalid_argument", sub: "s-nozone" },
  { name: "from and last", kind: "json", frame: () => sub({ sub: "s-fromlast", from: 1, last: 2 }), code: "invalid_argument", sub: "s-fromlast" },
  { name: "from and since", kind: "json", frame: () => sub({ sub: "s-fromsince", from: "first", since: "2026-01-01T00:00:00Z" }), code: "invalid_argument", sub: "s-fromsince" },
  { name: "since and last", kind: "json", frame: () => sub({ sub: "s-sincelast", since: "2026-01-01T00:00:00Z", last: 1 }), code: "invalid_argument", sub: "s-sincelast" },
  {
    name: "from beyond the end",
    kind: "json",
    frame: (c) => sub({ sub: "s-beyond", from: c.lastOffset + 2 }),
    code: "invalid_argument",
    sub: "s-beyond",
    message: (c) => new RegExp(`first_offset\\D*1\\b[^]*last_offset\\D*${c.lastOffset}\\b`),
  },
  // --- JSON: ids and events
  { name: "duplicate sub id", kind: "json", frame: () => sub({ sub: "taken" }), code: "invalid_argument", sub: "taken" },
  { name: "unsubscribe of an unknown sub", kind: "json", frame: () => ({ op: "unsubscribe", sub: "s-unknown" }), code: "not_found", sub: "s-unknown" },
  { name: "sub longer than 128", kind: "json", frame: () => sub({ sub: "s".repeat(129) }), code: "invalid_argument", sub: "s".repeat(129) },
  {
    name: "publish with data that does not fit the type",
    kind: "json",
    frame: () => ({ op: "publish", ref: "r-badcents", stream: "orders", type: ORDER_CREATED, data: { orderId: "o", totalCents: "abc" } }),
    code: "invalid_argument",
    ref: "r-badcents",
    message: () => /totalCents/,
  },
  {
    name: "publish with an unknown data field",
    kind: "json",
    frame: () => ({ op: "publish", ref: "r-unknownfield", stream: "orders", type: ORDER_CREATED, data: { orderId: "o", colour: "red" } }),
    code: "invalid_argument",
    ref: "r-unknownfield",
    message: () => /colour/,
  },
  {
    name: "publish with an out-of-range value",
    kind: "json",
    frame: () => ({ op: "publish", ref: "r-range", stream: "orders", type: ORDER_CREATED, data: { orderId: "o", items: [{ quantity: -1 }] } }),
    code: "invalid_argument",
    ref: "r-range",
  },
  { name: "publish with an unknown type", kind: "json", frame: () => ({ op: "publish", ref: "r-type", stream: "orders", type: METRIC, data: created }), code: "invalid_argument", ref: "r-type" },
  { name: "publish without type to a stream of several types", kind: "json", frame: () => ({ op: "publish", ref: "r-notype", stream: "orders", data: created }), code: "invalid_argument", ref: "r-notype" },
  { name: "publish with a malformed id", kind: "json", frame: () => ({ op: "publish", ref: "r-badid", stream: "orders", type: ORDER_CREATED, data: created, id: "has space" }), code: "invalid_argument", ref: "r-badid" },
  { name: "binary frame", kind: "json", frame: () => binary('{"op":"ping","ref":"r-bin"}'), code: "invalid_argument" },

  // --- proto
  { name: "text frame", kind: "proto", frame: () => text('{"op":"ping","ref":"r-text"}'), code: "invalid_argument" },
  { name: "undecodable bytes", kind: "proto", frame: () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), code: "invalid_argument" },
  { name: "truncated ClientFrame", kind: "proto", frame: () => proto(sub({ sub: "s-trunc", from: 1 })).slice(0, 6), code: "invalid_argument" },
  { name: "empty ClientFrame (no op)", kind: "proto", frame: () => new Uint8Array(0), code: "invalid_argument" },
  { name: "subscribe with an empty sub", kind: "proto", frame: () => proto(sub({ sub: "" })), code: "invalid_argument" },
  { name: "subscribe with an empty stream", kind: "proto", frame: () => proto({ op: "subscribe", sub: "p-nostream" }), code: ["invalid_argument", "not_found"], sub: "p-nostream" },
  { name: "subscribe to an unknown stream", kind: "proto", frame: () => proto(sub({ sub: "p-nope", stream: "nope" })), code: "not_found", sub: "p-nope" },
  { name: "unknown type in types", kind: "proto", frame: () => proto(sub({ sub: "p-badtype", types: [METRIC] })), code: "invalid_argument", sub: "p-badtype" },
  { name: "from 0", kind: "proto", frame: () => proto(sub({ sub: "p-from0", from: 0 })), code: "invalid_argument", sub: "p-from0" },
  { name: "from 2^53+2", kind: "proto", frame: () => proto(sub({ sub: "p-from53", from: 2n ** 53n + 2n })), code: "invalid_argument", sub: "p-from53" },
  { name: "last 0", kind: "proto", frame: () => proto(sub({ sub: "p-last0", last: 0 })), code: "invalid_argument", sub: "p-last0" },
  { name: "last 10001", kind: "proto", frame: () => proto(sub({ sub: "p-last10001", last: 10_001 })), code: "invalid_argument", sub: "p-last10001" },
  {
    name: "since out of range",
    kind: "proto",
    frame: () => ClientFrame.encode({ op: { $case: "subscribe", value: { sub: "p-since", stream: "orders", position: { $case: "since", value: { seconds: 10n ** 13n, nanos: 0 } }, epoch: "", types: [], key: undefined } } }).finish(),
    code: "invalid_argument",
    sub: "p-since",
  },
  {
    name: "from beyond the end",
    kind: "proto",
    frame: (c) => proto(sub({ sub: "p-beyond", from: c.lastOffset + 2 })),
    code: "invalid_argument",
    sub: "p-beyond",
    message: (c) => new RegExp(`first_offset\\D*1\\b[^]*last_offset\\D*${c.lastOffset}\\b`),
  },
  { name: "duplicate sub id", kind: "proto", frame: () => proto(sub({ sub: "taken" })), code: "invalid_argument", sub: "taken" },
  { name: "unsubscribe of an unknown sub", kind: "proto", frame: () => proto({ op: "unsubscribe", sub: "p-unknown" }), code: "not_found", sub: "p-unknown" },
  { name: "publish bytes that do not decode", kind: "proto", frame: () => proto({ op: "publish", ref: "p-bytes", stream: "orders", type: ORDER_SHIPPED, data: new Uint8Array([0x0a, 0xff]) }), code: "invalid_argument", ref: "p-bytes" },
  {
    name: "publish without type to a stream of several types",
    kind: "proto",
    frame: () => proto({ op: "publish", ref: "p-notype", stream: "orders", data: OrderShipped.encode(OrderShipped.fromPartial({ orderId: "o" })).finish() }),
    code: "invalid_argument",
    ref: "p-notype",
  },
  { name: "publish to an unknown stream", kind: "proto", frame: () => proto({ op: "publish", ref: "p-nope", stream: "nope", type: ORDER_SHIPPED, data: new Uint8Array() }), code: "not_found", ref: "p-nope" },
  { name: "publish with a malformed id", kind: "proto", frame: () => proto({ op: "publish", ref: "p-badid", stream: "metrics", data: new Uint8Array(), id: "has space" }), code: "invalid_argument", ref: "p-badid" },
  { name: "auth with an empty token", kind: "proto", frame: () => proto({ op: "auth", ref: "p-notoken", token: "" }), code: "invalid_argument", ref: "p-notoken" },
  { name: "auth while auth is off", kind: "proto", frame: () => proto({ op: "auth", ref: "p-authoff", token: "t" }), code: "invalid_argument", ref: "p-authoff", message: () => /auth is off/ },
  { name: "publish with an empty ref", kind: "proto", frame: () => proto({ op: "publish", ref: "", stream: "metrics", data: MetricSample.encode(MetricSample.fromPartial({ name: "empty-ref" })).finish() }), code: "invalid_argument" },
];

describe("bad frames", () => {
  let gw: TestGateway;
  const conns: Partial<Record<Kind, WsClient>> = {};

  beforeAll(async () => {
    gw = await startTestGateway();
    for (const kind of ["json", "proto"] as const) {
      const client = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), kind);
      await client.subscribe({ sub: "taken", stream: "orders" });
      conns[kind] = client;
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(conns).map((c) => c.close()));
    await gw?.close();
  });

  async function lastOffset(): Promise<number> {
    const res = await fetch(`${gw.url}/v1/streams/orders`);
    return ((await res.json()) as { last_offset: number }).last_offset;
  }

  it.each(rows)("$kind: $name → error frame, and the connection still answers", async (row) => {
    const client = conns[row.kind]!;
    expect(client.isOpen, `the ${row.kind} connection was closed by an earlier row: ${jsonish(client.closeInfo)}`).toBe(true);
    // Whatever an earlier failing row left behind is not this row's business.
    await client.drain(0);
    const ctx: Ctx = { lastOffset: await lastOffset() };
    const frame = row.frame(ctx);
    if (typeof frame === "string" || frame instanceof Uint8Array) client.sendRaw(frame);
    else client.send(frame);

    // The error frame for this row: the one echoing its ref/sub, or the one echoing neither.
    const error = await client.next(
      (m) => m.op === "error" && m.ref === row.ref && m.sub === row.sub,
      3_000,
      `error ${jsonish({ ref: row.ref, sub: row.sub })}`,
    );
    const { ref: _r, sub: _s, ...rest } = error as MsgOf<"error">;
    const codes = Array.isArray(row.code) ? row.code : [row.code];
    expect(codes, jsonish(error)).toContain(rest.code);
    expect(rest.message, jsonish(error)).toBeTypeOf("string");
    expect(rest.message.length).toBeGreaterThan(0);
    if (row.message) expect(rest.message).toMatch(row.message(ctx));

    // Still working: a ping gets its pong, and nothing else came for this frame.
    await client.ping();
    const extra = (await client.drain(50)).map((r) => r.msg);
    expect(extra, "frames besides the one error").toEqual([]);
    expect(client.isOpen).toBe(true);
  });

  it.each(["json", "proto"] as const)("%s: after every bad frame the connection still subscribes, publishes and delivers", async (kind) => {
    const client = conns[kind]!;
    // Ids that failed above are free.
    const s = kind === "json" ? "s-nope" : "p-nope";
    await client.subscribe({ sub: s, stream: "metrics" });
    const ref = uid("after-");
    const data = MetricSample.fromPartial({ name: uid("after-"), value: 2 });
    client.send({ op: "publish", ref, stream: "metrics", type: METRIC, data: kind === "json" ? { name: data.name, value: 2 } : MetricSample.encode(data).finish() });
    const ack = await client.nextOp("published", { ref });
    expect((await client.events(s, 1))[0]!.offset).toBe(ack.offset);
    // The subscription made before the table still delivers too.
    const other = kind === "json" ? conns.proto! : conns.json!;
    const r2 = uid("after-");
    other.send({ op: "publish", ref: r2, stream: "orders", type: ORDER_SHIPPED, data: kind === "json" ? OrderShipped.encode(OrderShipped.fromPartial({ orderId: "after" })).finish() : { orderId: "after" } });
    const ack2 = await other.nextOp("published", { ref: r2 });
    await client.next((m) => m.op === "event" && m.sub === "taken" && m.event.offset === ack2.offset, 5_000, `event ${ack2.offset} on taken`);
  });
});

describe("limits", () => {
  const MAX_FRAME = 65_536;
  const MAX_SUBS = 3;
  const FPS = 20;
  let gw: TestGateway;
  const open: WsClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      STREAMGATE_WS_MAX_FRAME_BYTES: String(MAX_FRAME),
      STREAMGATE_WS_MAX_SUBSCRIPTIONS: String(MAX_SUBS),
      STREAMGATE_WS_FRAMES_PER_SECOND: String(FPS),
    });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await gw?.close();
  });

  async function connect(kind: Kind): Promise<WsClient> {
    const client = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), kind);
    open.push(client);
    return client;
  }

  describe.each(["json", "proto"] as const)("%s", (kind) => {
    it(`a frame up to STREAMGATE_WS_MAX_FRAME_BYTES is taken; a bigger one closes the connection with 1009`, async () => {
      const client = await connect(kind);
      if (kind === "json") {
        const padded = `{"op":"ping","ref":"near-limit"}${" ".repeat(MAX_FRAME - 100)}`;
        client.sendRaw(padded);
        await client.nextOp("pong", { ref: "near-limit" });
      } else {
        const ref = uid("near-limit-");
        const data = MetricSample.encode(MetricSample.fromPartial({ name: uid("big-"), labels: { pad: "x".repeat(MAX_FRAME - 200) } })).finish();
        const frame = ClientFrame.encode(toClientFrame({ op: "publish", ref, stream: "metrics", data })).finish();
        expect(frame.byteLength).toBeLessThanOrEqual(MAX_FRAME);
        client.sendRaw(frame);
        await client.nextOp("published", { ref });
      }
      const big =
        kind === "json"
          ? `{"op":"ping","ref":"too-big"}${" ".repeat(MAX_FRAME + 10)}`
          : ClientFrame.encode(toClientFrame({ op: "publish", ref: "too-big", stream: "metrics", data: new Uint8Array(MAX_FRAME + 10) })).finish();
      client.sendRaw(big);
      const closed = await client.waitClosed(5_000);
      expect(closed.code).toBe(1009);
      expect(client.history.filter((r) => r.msg.op === "pong" && r.msg.ref === "too-big")).toEqual([]);
    });

    it(`more than STREAMGATE_WS_MAX_SUBSCRIPTIONS subscriptions: an error on the extra one, the rest unaffected`, async () => {
      const client = await connect(kind);
      const subs = Array.from({ length: MAX_SUBS }, () => uid("lim-"));
      for (const s of subs) client.send({ op: "subscribe", sub: s, stream: "metrics" });
      const extra = uid("lim-extra-");
      client.send({ op: "subscribe", sub: extra, stream: "metrics" });
      for (const s of subs) await client.nextOp("subscribed", { sub: s });
      const error = await client.nextOp("error", { sub: extra });
      expect(CODES).toContain(error.code);
      expect(error.message).toMatch(String(MAX_SUBS));
      await client.ping();

      // The connection and its subscriptions go on; a freed slot can be used again.
      const ref = uid("lim-pub-");
      const name = uid("lim-");
      client.send({ op: "publish", ref, stream: "metrics", data: kind === "json" ? { name } : MetricSample.encode(MetricSample.fromPartial({ name })).finish() });
      const ack = await client.nextOp("published", { ref });
      for (const s of subs) expect((await client.events(s, 1))[0]!.offset).toBe(ack.offset);
      client.send({ op: "unsubscribe", sub: subs[0]! });
      await client.nextOp("unsubscribed", { sub: subs[0]! });
      await client.subscribe({ sub: extra, stream: "metrics", from: ack.offset });
      expect((await client.events(extra, 1))[0]!.offset).toBe(ack.offset);
      const late = client.history.filter((r) => r.msg.op === "event" && r.msg.sub === extra && r.msg.event.offset !== ack.offset);
      expect(late).toEqual([]);
    });

    it(`more than STREAMGATE_WS_FRAMES_PER_SECOND: rate_limited errors, the connection stays, and a second later frames are taken again`, async () => {
      const client = await connect(kind);
      const burst = FPS * 3;
      const refs = Array.from({ length: burst }, () => uid("burst-"));
      for (const ref of refs) client.send({ op: "ping", ref });
      const answers: MsgOf<"pong" | "error">[] = [];
      while (answers.length < burst) {
        answers.push((await client.next((m) => m.op === "pong" || m.op === "error", 5_000, `answer ${answers.length + 1} of ${burst}`)) as MsgOf<"pong" | "error">);
      }
      const pongs = answers.filter((a) => a.op === "pong");
      const limited = answers.filter((a): a is MsgOf<"error"> => a.op === "error");
      expect(limited.length, jsonish(answers.slice(-3))).toBeGreaterThan(0);
      for (const e of limited) expect(e.code).toBe("rate_limited");
      // At least a second's worth is taken (the burst allowance may add more), every answered ref once.
      expect(pongs.length).toBeGreaterThanOrEqual(FPS);
      expect(pongs.length).toBeLessThan(burst);
      expect(new Set(pongs.map((p) => (p as MsgOf<"pong">).ref)).size).toBe(pongs.length);
      expect(client.isOpen).toBe(true);

      await sleep(1_100);
      const again = Array.from({ length: FPS / 2 }, () => uid("again-"));
      for (const ref of again) client.send({ op: "ping", ref });
      for (const ref of again) await client.nextOp("pong", { ref });
      const errors = (await client.drain(100)).filter((r) => r.msg.op === "error");
      expect(errors.map((r) => r.msg)).toEqual([]);
    });

    it("a rate-limited publish is answered with an error that carries its ref", async () => {
      const client = await connect(kind);
      const count = FPS * 3;
      const refs = Array.from({ length: count }, () => uid("rl-pub-"));
      for (const ref of refs) {
        const name = uid("rl-");
        client.send({ op: "publish", ref, stream: "metrics", data: kind === "json" ? { name } : MetricSample.encode(MetricSample.fromPartial({ name })).finish() });
      }
      // Every publish gets one answer a client can match to it: published or error, by ref.
      const answered = new Map<string, string>();
      const deadline = Date.now() + 10_000;
      while (answered.size < count && Date.now() < deadline) {
        const m = await client.next((x) => x.op === "published" || x.op === "error", Math.max(1, deadline - Date.now()), "an answer").catch(() => undefined);
        if (!m) break;
        const ref = "ref" in m ? m.ref : undefined;
        expect(refs, `an answer a client cannot match to its publish: ${jsonish(m)}`).toContain(ref);
        answered.set(ref!, m.op === "error" ? m.code : m.op);
      }
      expect(refs.filter((r) => !answered.has(r))).toEqual([]);
      expect([...answered.values()]).toContain("rate_limited");
    });
  });
});
