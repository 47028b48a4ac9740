/**
 * WebSocket liveness (PROTOCOL.md 5.3): the server pings and drops peers that stop answering;
 * a gateway that stops closes its sockets with 1012 so clients reconnect and resume.
 */
import { randomBytes } from "node:crypto";
import { connect as tcpConnect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { sleep } from "../support/wait.js";
import { WsClient, uid, wsUrl, type Kind } from "../support/ws-client.js";

const PING_MS = 200;
/** Two ping intervals (one ping unanswered, the next tick drops) plus slack for a busy machine. */
const DROP_WITHIN_MS = PING_MS * 2 + 1_300;

/**
 * A WebSocket peer on a bare TCP socket: it does the upgrade by hand, answers the server's
 * pings with masked pongs while `answering`, and otherwise only reads.
 */
class RawPeer {
  answering = true;
  pings = 0;
  closedAt?: number;
  readonly closed: Promise<number>;
  #buffer = Buffer.alloc(0);
  #upgraded = false;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.closedAt = Date.now();
        resolve(this.closedAt);
      }),
    );
    socket.on("error", () => undefined);
  }

  static open(httpBase: string, path: string, protocol: string): Promise<RawPeer> {
    const { hostname, port } = new URL(httpBase);
    const socket = tcpConnect({ host: hostname, port: Number(port) });
    const peer = new RawPeer(socket);
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.write(
          [
            `GET ${path} HTTP/1.1`,
            `Host: ${hostname}:${port}`,
            "Upgrade: websocket",
            "Connection: Upgrade",
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
            "Sec-WebSocket-Version: 13",
            `Sec-WebSocket-Protocol: ${protocol}`,
            "",
            "",
          ].join("\r\n"),
        );
      });
      socket.on("data", (chunk: Buffer) => {
        peer.#buffer = Buffer.concat([peer.#buffer, chunk]);
        if (!peer.#upgraded) {
          const end = peer.#buffer.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = peer.#buffer.subarray(0, end).toString("latin1");
          peer.#buffer = peer.#buffer.subarray(end + 4);
          if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
          peer.#upgraded = true;
          resolve(peer);
        }
        peer.#frames();
      });
    });
  }

  /** Reads the server's (unmasked) frames; answers pings while answering. */
  #frames(): void {
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let len = b[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + len) return;
      const opcode = b[0]! & 0x0f;
      const payload = b.subarray(offset, offset + len);
      this.#buffer = b.subarray(offset + len);
      if (opcode === 0x9) {
        this.pings++;
        if (this.answering) this.#send(0xa, payload);
      }
    }
  }

  #send(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]));
  }

  get isOpen(): boolean {
    return this.closedAt === undefined;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe(`heartbeats (STREAMGATE_WS_PING_INTERVAL_MS=${PING_MS})`, () => {
  let gw: TestGateway;
  const cleanup: (() => unknown)[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ STREAMGATE_WS_PING_INTERVAL_MS: String(PING_MS) });
  });
  afterAll(async () => {
    await Promise.all(cleanup.map((f) => f()));
    await gw?.close();
  });

  it.each(["json", "proto"] as const)("a %s client that answers pings stays connected for 2 s and keeps working", async (kind: Kind) => {
    const client = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), kind);
    cleanup.push(() => client.close());
    const sub = uid("alive-");
    await client.subscribe({ sub, stream: "metrics" });
    await sleep(2_000);
    expect(client.isOpen, `closed: ${JSON.stringify(client.closeInfo)}`).toBe(true);
    // About one ping per interval.
    expect(client.pings).toBeGreaterThanOrEqual(5);
    expect(client.pings).toBeLessThanOrEqual(2_000 / PING_MS + 2);
    await client.ping();
    const { offset } = await createProducer(gw.gateway.session.backbone.js, metrics).publish({
      type: "demo.metrics.v1.MetricSample",
      data: { name: uid("alive-") },
    });
    expect((await client.events(sub, 1))[0]!.offset).toBe(offset);
  });

  it("a client that never answers pings (ws with autoPong: false) is dropped within two intervals", async () => {
    const started = Date.now();
    const client = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { autoPong: false });
    cleanup.push(() => client.close());
    await client.subscribe({ sub: uid("dead-"), stream: "metrics" });
    const closed = await client.waitClosed(DROP_WITHIN_MS);
    const ms = Date.now() - started;
    expect(client.pings).toBeGreaterThanOrEqual(1);
    // The peer is gone, not told: the server drops the TCP connection.
    expect(closed.code).toBe(1006);
    expect(ms).toBeGreaterThanOrEqual(PING_MS);
    console.info(`[liveness] silent ws client dropped after ${ms} ms (${client.pings} ping(s))`);
  });

  it("a raw TCP peer is kept while it answers pings and dropped soon after it stops", async () => {
    const peer = await RawPeer.open(gw.url, "/v1/ws", "streamgate.v1.json");
    cleanup.push(() => peer.destroy());
    await sleep(1_200);
    expect(peer.isOpen).toBe(true);
    expect(peer.pings).toBeGreaterThanOrEqual(3);

    peer.answering = false;
    const stopped = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const closedAt = await Promise.race([
      peer.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`raw peer still connected ${DROP_WITHIN_MS} ms after it stopped answering`)), DROP_WITHIN_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    console.info(`[liveness] raw peer dropped ${closedAt - stopped} ms after it stopped answering (${peer.pings} pings seen)`);
  });
});

describe("gateway stop", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => gw?.close());

  it("closes every open WebSocket with 1012 (restarting: reconnect and resume)", async () => {
    const json = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    const proto = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "proto");
    const preSubscribed = await WsClient.connect(wsUrl(gw.url, "/v1/streams/orders/ws?from=first"), "json");
    const idle = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "proto");
    await json.subscribe({ sub: "a", stream: "orders" });
    await proto.subscribe({ sub: "b", stream: "metrics", from: "first" });
    await preSubscribed.nextOp("subscribed", { sub: "orders" });
    await idle.ping();

    const started = Date.now();
    const stopping = gw.gateway.stop();
    const codes = await Promise.all([json, proto, preSubscribed, idle].map((c) => c.waitClosed(5_000)));
    expect(codes.map((c) => c.code)).toEqual([1012, 1012, 1012, 1012]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      stopping,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("gateway.stop() did not finish within 10 s with sockets open")), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    console.info(`[liveness] gateway stop closed 4 sockets with 1012 and finished in ${Date.now() - started} ms`);

    // Nothing listens any more.
    await expect(WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json", { timeoutMs: 2_000 })).rejects.toThrow();
  });
});
