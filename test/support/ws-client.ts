/**
 * A WebSocket test client for PROTOCOL.md section 5.3, over the real `ws` package, for either
 * subprotocol. Operations are written in the JSON subprotocol's shape; the protobuf client
 * translates them into streamgate.v1.ClientFrame. Every server frame is decoded (strictly:
 * a text frame on streamgate.v1.proto, a binary one on streamgate.v1.json, or one that does not
 * decode is recorded as `{op: "invalid"}` and fails whoever waits on it) into one normalized
 * shape, queued, and taken with next(predicate, timeout).
 */
import WebSocket from "ws";
import { Anchor, ClientFrame, ServerFrame, type Subscribe } from "../../protocol/generated/streamgate/v1/frames.js";
import type { Timestamp } from "../../protocol/generated/google/protobuf/timestamp.js";
import type { Envelope } from "./envelope.js";
import { sleep } from "./wait.js";

export type Kind = "json" | "proto";
export const SUBPROTOCOL = { json: "streamgate.v1.json", proto: "streamgate.v1.proto" } as const;

/** The event of an `event` frame. JSON clients fill `data` (and `dataBase64`), proto clients `bytes`. */
export interface WsEvent extends Omit<Envelope, "data"> {
  /** RFC 3339; for proto, made from the Timestamp with millisecond precision. */
  time: string;
  data?: unknown;
  /** The proto subprotocol's Event.data. */
  bytes?: Uint8Array;
  /** The proto subprotocol's Event.time, as sent. */
  timestamp?: Timestamp;
}

export type ServerMsg =
  | { op: "subscribed"; sub: string; stream: string; first_offset: number; last_offset: number; epoch: string }
  | { op: "event"; sub: string; event: WsEvent }
  | { op: "gap"; sub: string; stream: string; requested: number; first: number; epoch: string }
  | { op: "unsubscribed"; sub: string; reason?: string }
  | { op: "published"; ref: string; offset: number; id: string; duplicate: boolean }
  | { op: "error"; ref?: string; sub?: string; code: string; message: string }
  | { op: "pong"; ref: string }
  | { op: "authed"; ref: string; expires_at?: number }
  | { op: "expiring"; expires_at: number }
  /** Not a protocol frame: something the client could not accept (wrong frame type, undecodable). */
  | { op: "invalid"; problem: string };

export type Op = ServerMsg["op"];
export type MsgOf<O extends Op> = Extract<ServerMsg, { op: O }>;

export interface Received {
  msg: ServerMsg;
  /** The frame as it came: text for JSON, bytes for proto. */
  raw: string | Uint8Array;
  binary: boolean;
  at: number;
}

/** A client operation in the JSON subprotocol's shape. For proto, `since` may be a Date and publish `data` bytes. */
export type ClientOp = { op: string } & Record<string, unknown>;

export interface CloseInfo {
  code: number;
  reason: string;
}

/** The gateway answered the upgrade request with a plain HTTP response. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly text: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${text.slice(0, 300)}`);
  }

  get body(): any {
    try {
      return JSON.parse(this.text);
    } catch {
      return undefined;
    }
  }
}

export interface ConnectOptions {
  /** The subprotocol(s) to offer; default: the one of `kind`. Pass [] to offer none. */
  protocols?: string[];
  /** false: do not answer the server's pings (a dead peer). */
  autoPong?: boolean;
  timeoutMs?: number;
  /** Sent with the upgrade request (e.g. Authorization, Cookie, Origin). */
  headers?: Record<string, string>;
}

let refs = 0;
/** A ref or sub id unique within this process. */
export function uid(prefix = "r"): string {
  return `${prefix}${++refs}`;
}

/** ws:// form of the gateway's http:// base URL plus path. */
export function wsUrl(httpBase: string, path: string): string {
  return httpBase.replace(/^http/, "ws") + path;
}

export class WsClient {
  /** Every frame received, in order (also those already taken). */
  readonly history: Received[] = [];
  readonly closed: Promise<CloseInfo>;
  /** Server pings seen. */
  pings = 0;
  closeInfo?: CloseInfo;
  #queue: Received[] = [];
  #wake = new Set<() => void>();

  private constructor(
    readonly ws: WebSocket,
    readonly kind: Kind,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString("utf8") };
        resolve(this.closeInfo);
        this.#notify();
      });
    });
    ws.on("ping", () => this.pings++);
    ws.on("error", () => undefined); // surfaced through `closed`
    ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const raw = isBinary ? new Uint8Array(bytes) : bytes.toString("utf8");
      const received: Received = { msg: decodeServerFrame(kind, raw, isBinary), raw, binary: isBinary, at: Date.now() };
      this.history.push(received);
      this.#queue.push(received);
      this.#notify();
    });
  }

  /**
   * Opens a connection and waits until it is open. `kind` decides how frames are written and
   * read; it is the subprotocol offered unless options.protocols says otherwise.
   */
  static connect(url: string, kind: Kind, options: ConnectOptions = {}): Promise<WsClient> {
    const protocols = options.protocols ?? [SUBPROTOCOL[kind]];
    const ws = new WebSocket(url, protocols, {
      autoPong: options.autoPong ?? true,
      handshakeTimeout: options.timeoutMs ?? 10_000,
      ...(options.headers && { headers: options.headers }),
    });
    const client = new WsClient(ws, kind);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          reject(new UpgradeRefused(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8")));
          ws.terminate();
        });
      });
      ws.once("error", (err) => reject(err));
    });
  }

  /** Connects, expecting the upgrade to be refused with a plain HTTP answer. */
  static async refused(url: string, kind: Kind, options: ConnectOptions = {}): Promise<UpgradeRefused> {
    try {
      const client = await WsClient.connect(url, kind, options);
      const early = await client.drain(300);
      await client.close();
      throw new Error(`expected the upgrade to be refused, but it was accepted; frames: ${jsonish(early.map((r) => r.msg))}`);
    } catch (err) {
      if (err instanceof UpgradeRefused) return err;
      throw err;
    }
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one operation in this client's subprotocol. */
  send(op: ClientOp): void {
    this.sendRaw(this.kind === "json" ? JSON.stringify(op) : ClientFrame.encode(toClientFrame(op)).finish());
  }

  /** Sends a frame as it is: a string as a text frame, bytes as a binary frame. */
  sendRaw(frame: string | Uint8Array): void {
    this.ws.send(frame, { binary: typeof frame !== "string" });
  }

  /** Queued frames not yet taken. */
  pending(): ServerMsg[] {
    return this.#queue.map((r) => r.msg);
  }

  /**
   * Takes the first queued frame that matches (waiting for it); frames before it that do not
   * match stay queued. Fails on timeout, on an invalid frame, or when the socket closes first.
   */
  async nextReceived(match: (m: ServerMsg) => boolean = () => true, timeoutMs = 5_000, what = "a frame"): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const invalid = this.#queue.find((r) => r.msg.op === "invalid");
      if (invalid) throw new Error(`the server sent a frame the client cannot accept: ${(invalid.msg as MsgOf<"invalid">).problem}`);
      const index = this.#queue.findIndex((r) => match(r.msg));
      if (index >= 0) return this.#queue.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (this.closeInfo || left <= 0) {
        const state = this.closeInfo ? `socket closed (${this.closeInfo.code} ${this.closeInfo.reason})` : `timed out after ${timeoutMs} ms`;
        throw new Error(`waiting for ${what}: ${state}; queued: ${show(this.pending())}`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#wake.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#wake.add(wake);
      });
    }
  }

  async next(match: (m: ServerMsg) => boolean = () => true, timeoutMs = 5_000, what = "a frame"): Promise<ServerMsg> {
    return (await this.nextReceived(match, timeoutMs, what)).msg;
  }

  /** The next frame with this op (and, when given, this sub or ref). */
  async nextOp<O extends Op>(op: O, id: { sub?: string; ref?: string } = {}, timeoutMs = 5_000): Promise<MsgOf<O>> {
    const what = `${op} ${JSON.stringify(id)}`;
    return (await this.next(
      (m) =>
        m.op === op &&
        (id.sub === undefined || ("sub" in m && m.sub === id.sub)) &&
        (id.ref === undefined || ("ref" in m && m.ref === id.ref)),
      timeoutMs,
      what,
    )) as MsgOf<O>;
  }

  /** The next `count` event and gap frames of one subscription, in the order they came. */
  async items(sub: string, count: number, timeoutMs = 10_000): Promise<(MsgOf<"event"> | MsgOf<"gap">)[]> {
    const deadline = Date.now() + timeoutMs;
    const out: (MsgOf<"event"> | MsgOf<"gap">)[] = [];
    while (out.length < count) {
      const left = Math.max(1, deadline - Date.now());
      try {
        out.push((await this.next((m) => (m.op === "event" || m.op === "gap") && m.sub === sub, left)) as MsgOf<"event"> | MsgOf<"gap">);
      } catch (err) {
        throw new Error(`sub ${sub}: ${out.length} of ${count} items [${show(out)}]: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** The next `count` events of one subscription (a gap frame among them fails). */
  async events(sub: string, count: number, timeoutMs = 10_000): Promise<WsEvent[]> {
    const items = await this.items(sub, count, timeoutMs);
    const gap = items.find((i) => i.op === "gap");
    if (gap) throw new Error(`sub ${sub}: unexpected gap frame ${jsonish(gap)}`);
    return items.map((i) => (i as MsgOf<"event">).event);
  }

  /** Subscribes and waits for `subscribed` (or fails with the error frame). */
  async subscribe(fields: Record<string, unknown> & { sub: string; stream: string }, timeoutMs = 5_000): Promise<MsgOf<"subscribed">> {
    this.send({ op: "subscribe", ...fields });
    const answer = await this.next(
      (m) => (m.op === "subscribed" || m.op === "error") && "sub" in m && m.sub === fields.sub,
      timeoutMs,
      `subscribed ${fields.sub}`,
    );
    if (answer.op !== "subscribed") throw new Error(`subscribe ${jsonish(fields)} failed: ${jsonish(answer)}`);
    return answer;
  }

  /** Sends a ping with a fresh ref and waits for its pong. */
  async ping(timeoutMs = 5_000): Promise<MsgOf<"pong">> {
    const ref = uid("ping");
    this.send({ op: "ping", ref });
    return this.nextOp("pong", { ref }, timeoutMs);
  }

  /** Waits `quietMs`, then takes every queued frame. */
  async drain(quietMs: number): Promise<Received[]> {
    await sleep(quietMs);
    return this.#queue.splice(0);
  }

  /** Resolves with the close code, failing if the socket stays open for timeoutMs. */
  async waitClosed(timeoutMs: number): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes (normal closure) and waits, terminating if the server does not answer in time. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(1000);
    const timer = setTimeout(() => this.ws.terminate(), 2_000);
    await this.closed;
    clearTimeout(timer);
  }

  #notify(): void {
    for (const wake of [...this.#wake]) wake();
  }
}

/** JSON.stringify for messages and assertion texts: bytes as their length, bigints as numbers. */
export function jsonish(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : typeof v === "bigint" ? String(v) : v));
}

function show(msgs: readonly ServerMsg[]): string {
  const text = msgs.map((m) => jsonish(m)).join(", ");
  return text.length > 2_000 ? `${text.slice(0, 2_000)}...` : text || "(nothing)";
}

// -------------------------------------------------------------------------------------------
// Wire forms

export function decodeServerFrame(kind: Kind, raw: string | Uint8Array, binary: boolean): ServerMsg {
  if (kind === "json") {
    if (binary) return { op: "invalid", problem: `a binary frame on ${SUBPROTOCOL.json}` };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw as string);
    } catch {
      return { op: "invalid", problem: `not JSON: ${String(raw).slice(0, 200)}` };
    }
    if (typeof parsed !== "object" || parsed === null || typeof (parsed as { op?: unknown }).op !== "string") {
      return { op: "invalid", problem: `not a frame object: ${String(raw).slice(0, 200)}` };
    }
    return parsed as ServerMsg;
  }
  if (!binary) return { op: "invalid", problem: `a text frame on ${SUBPROTOCOL.proto}: ${String(raw).slice(0, 200)}` };
  let frame: ServerFrame;
  try {
    frame = ServerFrame.decode(raw as Uint8Array);
  } catch (err) {
    return { op: "invalid", problem: `not a ServerFrame: ${(err as Error).message}` };
  }
  return fromServerFrame(frame);
}

function fromServerFrame(frame: ServerFrame): ServerMsg {
  const op = frame.op;
  switch (op?.$case) {
    case "subscribed": {
      const v = op.value;
      return {
        op: "subscribed",
        sub: v.sub,
        stream: v.stream,
        first_offset: Number(v.firstOffset),
        last_offset: Number(v.lastOffset),
        epoch: v.epoch,
      };
    }
    case "event": {
      const e = op.value.event;
      if (!e) return { op: "invalid", problem: "EventDelivery without an event" };
      return {
        op: "event",
        sub: op.value.sub,
        event: {
          stream: e.stream,
          offset: Number(e.offset),
          id: e.id,
          type: e.type,
          ...(e.key !== "" && { key: e.key }),
          time: e.time ? timestampToDate(e.time).toISOString() : "",
          bytes: e.data,
          ...(e.time && { timestamp: e.time }),
        },
      };
    }
    case "gap": {
      const g = op.value.gap;
      if (!g) return { op: "invalid", problem: "GapDelivery without a gap notice" };
      return { op: "gap", sub: op.value.sub, stream: g.stream, requested: Number(g.requested), first: Number(g.first), epoch: g.epoch };
    }
    case "unsubscribed":
      return { op: "unsubscribed", sub: op.value.sub, ...(op.value.reason !== "" && { reason: op.value.reason }) };
    case "published":
      return { op: "published", ref: op.value.ref, offset: Number(op.value.offset), id: op.value.id, duplicate: op.value.duplicate };
    case "error": {
      const v = op.value;
      return { op: "error", ...(v.ref !== "" && { ref: v.ref }), ...(v.sub !== "" && { sub: v.sub }), code: v.code, message: v.message };
    }
    case "pong":
      return { op: "pong", ref: op.value.ref };
    case "authed":
      return { op: "authed", ref: op.value.ref, ...(op.value.expiresAt !== 0n && { expires_at: Number(op.value.expiresAt) }) };
    case "expiring":
      return { op: "expiring", expires_at: Number(op.value.expiresAt) };
    default:
      return { op: "invalid", problem: "a ServerFrame without an operation" };
  }
}

export function timestampToDate(t: Timestamp): Date {
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));
}

export function dateToTimestamp(d: Date): Timestamp {
  const ms = d.getTime();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
}

/**
 * A JSON-shaped operation as a ClientFrame. Position: `from` (number | "first" | "now"),
 * `since` (Date or RFC 3339 string), `last`; at most one is carried (a oneof).
 */
export function toClientFrame(op: ClientOp): ClientFrame {
  const str = (v: unknown) => (v === undefined ? "" : String(v));
  switch (op.op) {
    case "subscribe": {
      let position: Subscribe["position"];
      if (op.from === "first") position = { $case: "anchor", value: Anchor.ANCHOR_FIRST };
      else if (op.from === "now") position = { $case: "anchor", value: Anchor.ANCHOR_NOW };
      else if (op.from !== undefined) position = { $case: "from", value: BigInt(op.from as number) };
      else if (op.since !== undefined) {
        position = { $case: "since", value: op.since instanceof Date ? dateToTimestamp(op.since) : dateToTimestamp(new Date(String(op.since))) };
      } else if (op.last !== undefined) position = { $case: "last", value: op.last as number };
      return {
        op: {
          $case: "subscribe",
          value: {
            sub: str(op.sub),
            stream: str(op.stream),
            position,
            epoch: str(op.epoch),
            types: (op.types as string[] | undefined) ?? [],
            key: op.key === undefined ? undefined : String(op.key),
          },
        },
      };
    }
    case "unsubscribe":
      return { op: { $case: "unsubscribe", value: { sub: str(op.sub) } } };
    case "publish": {
      if (op.data !== undefined && !(op.data instanceof Uint8Array)) throw new Error("a proto publish needs data as bytes");
      return {
        op: {
          $case: "publish",
          value: {
            ref: str(op.ref),
            stream: str(op.stream),
            type: str(op.type),
            data: (op.data as Uint8Array | undefined) ?? new Uint8Array(),
            key: op.key === undefined ? undefined : String(op.key),
            id: str(op.id),
          },
        },
      };
    }
    case "ping":
      return { op: { $case: "ping", value: { ref: str(op.ref) } } };
    case "auth":
      return { op: { $case: "auth", value: { ref: str(op.ref), token: str(op.token) } } };
    default:
      throw new Error(`no ClientFrame for op ${op.op}`);
  }
}
