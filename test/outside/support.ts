// Helpers for the outside suite: a client's view of a gateway, over HTTP, SSE, WebSocket and
// webhooks only. Nothing here imports the gateway's code; PROTOCOL.md is the only reference.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll } from "vitest";
import WebSocket from "ws";

const repoRoot = resolve(import.meta.dirname, "../..");

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// ---------------------------------------------------------------------------------------------
// Waiting, always bounded.

/** A queue a test takes items from in arrival order, each take bounded by a deadline. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<() => void> = [];
  private closedWith: string | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  close(reason: string): void {
    this.closedWith = reason;
    this.wake();
  }

  get pending(): readonly T[] {
    return this.items;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** The next item, or a rejection naming `what` after `timeoutMs`. */
  async take(what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) return item;
      if (this.closedWith !== undefined) throw new Error(`${what}: closed (${this.closedWith})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: nothing within ${timeoutMs} ms`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }

  /** Takes items until one matches, returning all taken (the match last). */
  async takeUntil(match: (item: T) => boolean, what: string, timeoutMs = 10_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    const taken: T[] = [];
    for (;;) {
      const item = await this.take(what, Math.max(1, deadline - Date.now()));
      taken.push(item);
      if (match(item)) return taken;
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Polls `check` until it returns a value other than undefined, for at most `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// Processes: a real nats-server and the gateway started the way a user starts it.

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createNetServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

/** Resolves when `pattern` shows up in the process's output, rejects when it exits first. */
function awaitOutput(child: ChildProcess, pattern: string, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`no "${pattern}" within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(pattern)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`exited (${code}) before "${pattern}":\n${seen}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => done({ code, signal }));
  });
}

/** True while any process of the group led by `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process under `root` (itself included) that listens on 127.0.0.1:`port`, found through /proc. */
export function listenerPid(root: number, port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set(
    readFileSync("/proc/net/tcp", "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[1] === `0100007F:${hexPort}` && cols[3] === "0A")
      .map((cols) => cols[9]!),
  );
  const descendants = (pid: number): number[] => {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(descendants)];
  };
  for (const pid of descendants(root)) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return "";
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  throw new Error(`no process under ${root} listens on port ${port}`);
}

export interface Nats {
  url: string;
  /** Stops the server, keeping its port and data for `start`. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNats(): Promise<Nats> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "outside-nats-"));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn("nats-server", ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
    });
    await awaitOutput(child, "Server is ready", 10_000);
  };
  const kill = async () => {
    if (!child) return;
    const exited = exitOf(child);
    child.kill("SIGTERM");
    await exited;
    child = undefined;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Gateway {
  base: string;
  port: number;
  /** The process the gateway was started as (`npx`), leader of its own process group. */
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  stop(): Promise<void>;
}

/** How a user starts the gateway: `npx tsx src/cli/main.ts serve` (the sources), or `npm start` (the build). */
export type Launch = "npx" | "npm start";

export async function startGateway(natsUrl: string, env: Record<string, string> = {}, launch: Launch = "npx"): Promise<Gateway> {
  const port = await freePort();
  const [command, ...args] = launch === "npx" ? ["npx", "tsx", "src/cli/main.ts", "serve"] : ["npm", "start", "--silent"];
  // The build runs as a user runs it: without this repository's source condition.
  const { NODE_OPTIONS, ...userEnv } = process.env;
  const child = spawn(command!, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...(launch === "npx" ? process.env : userEnv),
      PORT: String(port),
      HOST: "127.0.0.1",
      NATS_URL: natsUrl,
      STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8",
      STREAMGATE_LOG_LEVEL: "warn",
      ...env,
    },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = exitOf(child);
  const base = `http://127.0.0.1:${port}`;
  const gateway: Gateway = {
    base,
    port,
    child,
    exited,
    output: () => output,
    async stop() {
      if (child.pid !== undefined && groupAlive(child.pid)) {
        process.kill(-child.pid, "SIGTERM");
        const bounded = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
        if (!bounded && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
      }
    },
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}):\n${output}`);
        const res = await fetch(`${base}/readyz`);
        await res.arrayBuffer();
        return res.status === 200 ? true : undefined;
      },
      "gateway /readyz = 200",
      45_000,
    );
  } catch (error) {
    await gateway.stop();
    throw new Error(`${String(error)}\n${output}`);
  }
  return gateway;
}

export function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export interface Stack {
  nats: Nats;
  gateway: Gateway;
  base: string;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}, launch: Launch = "npx"): Promise<Stack> {
  const nats = await startNats();
  try {
    const gateway = await startGateway(nats.url, env, launch);
    return {
      nats,
      gateway,
      base: gateway.base,
      async stop() {
        await gateway.stop();
        await nats.stop();
      },
    };
  } catch (error) {
    await nats.stop();
    throw error;
  }
}

/** Starts a stack before the file's tests and stops it after; the getter gives it to the tests. */
export function useStack(env: Record<string, string> = {}): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(env);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return () => {
    if (!stack) throw new Error("the stack has not started");
    return stack;
  };
}

/** Purges a stream's events the way an operator would: JetStream, found by its subjects. */
export async function purgeStream(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const prefix = `streamgate.${stream}.`;
    for await (const info of jsm.streams.list()) {
      if (info.config.subjects?.some((subject) => subject.startsWith(prefix))) {
        await jsm.streams.purge(info.config.name);
        return;
      }
    }
    throw new Error(`no JetStream stream holds subjects ${prefix}>`);
  } finally {
    await nc.close();
  }
}

/** Stores raw bytes on a subject of the backbone, as an operator's tool (or a broken producer) could. */
export async function publishRaw(natsUrl: string, subject: string, payload: Uint8Array): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    return (await jetstream(nc).publish(subject, payload)).seq;
  } finally {
    await nc.close();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: JsonObject;
}

export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: JsonObject = {};
  if (text !== "" && res.headers.get("content-type")?.includes("json")) json = JSON.parse(text) as JsonObject;
  return { status: res.status, headers: res.headers, text, json };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** The error shape of PROTOCOL.md section 4, with its code; returns the error object. */
export function errorOf(reply: Reply): { code: string; message: string; details?: Array<{ path: string; message: string }> } {
  const body = JSON.parse(reply.text) as { error?: unknown };
  if (typeof body !== "object" || body === null || Object.keys(body).join() !== "error") {
    throw new Error(`not an error body: ${reply.text}`);
  }
  const error = body.error as { code?: unknown; message?: unknown; details?: unknown };
  const extra = Object.keys(error).filter((name) => !["code", "message", "details"].includes(name));
  if (extra.length > 0 || typeof error.code !== "string" || typeof error.message !== "string" || error.message === "") {
    throw new Error(`malformed error body: ${reply.text}`);
  }
  return error as { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

/** One SSE block: the fields in order, and the comment lines. */
export interface SseBlock {
  fields: Array<[string, string]>;
  comments: string[];
  /** The block's raw lines, as received. */
  lines: string[];
}

export function field(block: SseBlock, name: string): string | undefined {
  return block.fields.find(([key]) => key === name)?.[1];
}

export interface SseConnection {
  status: number;
  headers: Headers;
  blocks: Inbox<SseBlock>;
  /** Every line received, in order. */
  lines: string[];
  /** Resolves when the server ends the response. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  const blocks = new Inbox<SseBlock>();
  const lines: string[] = [];
  const ended = (async () => {
    if (!res.body || res.status !== 200) return;
    const decoder = new TextDecoder();
    let buffer = "";
    let block: SseBlock = { fields: [], comments: [], lines: [] };
    try {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
          lines.push(line);
          if (line === "") {
            if (block.lines.length > 0) blocks.push(block);
            block = { fields: [], comments: [], lines: [] };
            continue;
          }
          block.lines.push(line);
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (colon === 0) block.comments.push(value);
          else block.fields.push([name, value]);
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    } finally {
      blocks.close("response ended");
    }
  })();
  ended.catch(() => undefined);
  return { status: res.status, headers: res.headers, blocks, lines, ended, close: () => abort.abort() };
}

/** The next block carrying data (an event or a notice), skipping retry-only and comment blocks. */
export async function nextData(sse: SseConnection, what: string, timeoutMs = 10_000): Promise<SseBlock> {
  const taken = await sse.blocks.takeUntil((block) => field(block, "data") !== undefined, what, timeoutMs);
  return taken[taken.length - 1]!;
}

// ---------------------------------------------------------------------------------------------
// WebSocket

export interface WsConnection<F> {
  ws: WebSocket;
  frames: Inbox<F>;
  closed: Promise<{ code: number; reason: string }>;
  send(frame: F extends JsonObject ? JsonObject : Uint8Array): void;
  close(): Promise<void>;
}

/**
 * Frames are listened for from the start: `ws` emits a frame that came with the upgrade
 * answer right after "open", before anyone awaiting "open" could attach a listener.
 */
function openSocket<F>(url: string, protocols: string[] | undefined, decode: (data: Buffer, binary: boolean) => F): Promise<WsConnection<F>> {
  return new Promise((done, fail) => {
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    const connection = wrap(ws, decode);
    ws.once("open", () => done(connection));
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

function wrap<F>(ws: WebSocket, decode: (data: Buffer, binary: boolean) => F): WsConnection<F> {
  const frames = new Inbox<F>();
  const closed = new Promise<{ code: number; reason: string }>((done) =>
    ws.on("close", (code, reason) => {
      frames.close(`closed ${code}`);
      done({ code, reason: reason.toString() });
    }),
  );
  ws.on("message", (data, binary) => frames.push(decode(data as Buffer, binary)));
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(frame instanceof Uint8Array ? frame : JSON.stringify(frame)),
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      const closedInTime = await Promise.race([closed.then(() => true), delay(5_000).then(() => false)]);
      if (!closedInTime) ws.terminate();
    },
  };
}

export async function openJsonWs(url: string, protocols?: string[]): Promise<WsConnection<JsonObject>> {
  return openSocket(url, protocols, (data, binary) => {
    if (binary) throw new Error("binary frame on the JSON subprotocol");
    return JSON.parse(data.toString()) as JsonObject;
  });
}

export async function openBinaryWs(url: string, protocols: string[]): Promise<WsConnection<Uint8Array>> {
  return openSocket(url, protocols, (data, binary) => {
    if (!binary) throw new Error(`text frame on a binary subprotocol: ${data.toString()}`);
    return new Uint8Array(data);
  });
}

export function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

// ---------------------------------------------------------------------------------------------
// Webhooks: a receiver and Standard Webhooks verification done by hand.

export interface Delivery {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers for one delivery. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string };

export interface Receiver {
  url(path: string): string;
  deliveries(path: string): Inbox<Delivery>;
  /** Sets how `path` answers; by default 200. */
  answer(path: string, decide: (delivery: Delivery, count: number) => Answer): void;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const inboxes = new Map<string, Inbox<Delivery>>();
  const deciders = new Map<string, (delivery: Delivery, count: number) => Answer>();
  const counts = new Map<string, number>();
  const inbox = (path: string) => {
    let found = inboxes.get(path);
    if (!found) inboxes.set(path, (found = new Inbox<Delivery>()));
    return found;
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      const delivery: Delivery = { path, method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      const count = (counts.get(path) ?? 0) + 1;
      counts.set(path, count);
      const answer = deciders.get(path)?.(delivery, count) ?? { status: 200 };
      inbox(path).push(delivery);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("receiver has no address");
  return {
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    deliveries: inbox,
    answer: (path, decide) => void deciders.set(path, decide),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A webhook receiver for the file's tests, like useStack. */
export function useReceiver(): () => Receiver {
  let receiver: Receiver | undefined;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
  });
  return () => {
    if (!receiver) throw new Error("the receiver has not started");
    return receiver;
  };
}

/** The `v1,<base64>` signature Standard Webhooks defines, computed here from the secret. */
export function sign(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

export function header(delivery: Delivery, name: string): string | undefined {
  const value = delivery.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

// ---------------------------------------------------------------------------------------------
// Protobuf bodies of the example schemas (section 8), written by hand as any protobuf client could.

export interface OrderShippedFields {
  orderId: string;
  carrier: string;
  trackingNumber: string;
}

export function encodeOrderShipped(message: OrderShippedFields): Uint8Array<ArrayBuffer> {
  const writer = new BinaryWriter();
  writer.uint32((1 << 3) | 2).string(message.orderId);
  writer.uint32((2 << 3) | 2).string(message.carrier);
  writer.uint32((3 << 3) | 2).string(message.trackingNumber);
  return new Uint8Array(writer.finish());
}

export function decodeOrderShipped(bytes: Uint8Array): OrderShippedFields {
  const reader = new BinaryReader(bytes);
  const message: OrderShippedFields = { orderId: "", carrier: "", trackingNumber: "" };
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1) message.orderId = reader.string();
    else if (fieldNo === 2) message.carrier = reader.string();
    else if (fieldNo === 3) message.trackingNumber = reader.string();
    else reader.skip(wireType);
  }
  return message;
}

// ---------------------------------------------------------------------------------------------
// Small shared checks

export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const EVENT_ID = /^[A-Za-z0-9_:-]{1,128}$/;

let counter = 0;
/** A key no other test in the run uses, so filters isolate a test's events. */
export function uniqueKey(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Date.now().toString(36)}`;
}

export interface StreamInfo {
  name: string;
  first_offset: number;
  last_offset: number;
  epoch: string;
  [key: string]: Json;
}

export async function streamInfo(base: string, stream: string): Promise<StreamInfo> {
  const reply = await request(`${base}/v1/streams/${stream}`);
  if (reply.status !== 200) throw new Error(`GET stream ${stream}: ${reply.status} ${reply.text}`);
  return reply.json as unknown as StreamInfo;
}

/** Publishes one event as JSON and returns its offset, failing unless the gateway answers 201. */
export async function publish(base: string, stream: string, event: JsonObject, headers: Record<string, string> = {}): Promise<{ offset: number; id: string }> {
  const reply = await postJson(`${base}/v1/streams/${stream}/events`, event, headers);
  if (reply.status !== 201) throw new Error(`publish: ${reply.status} ${reply.text}`);
  return reply.json as { offset: number; id: string };
}

export function shipped(key: string, n: number): JsonObject {
  return { type: "demo.orders.v1.OrderShipped", data: { orderId: key, carrier: "dhl", trackingNumber: `t-${n}` } };
}

/** Publishes `count` OrderShipped events about `key`, one by one, and returns their offsets. */
export async function publishShipped(base: string, key: string, count: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let n = 0; n < count; n += 1) offsets.push((await publish(base, "orders", shipped(key, n))).offset);
  return offsets;
}

/** Short-polls once and returns the whole answer. */
export async function poll(base: string, stream: string, query: string): Promise<Reply> {
  return request(`${base}/v1/streams/${stream}/poll?${query}`);
}

/** The envelope of the event at `offset`, read with a short poll. */
export async function envelopeAt(base: string, stream: string, offset: number): Promise<JsonObject> {
  const reply = await poll(base, stream, `from=${offset}&max=1&wait=0`);
  const event = (reply.json.events as JsonObject[] | undefined)?.[0];
  if (!event || event.offset !== offset) throw new Error(`no event at ${stream}/${offset}: ${reply.text}`);
  return event;
}

export function offsetsOf(events: Json[]): number[] {
  return events.map((event) => (event as { offset: number }).offset);
}
