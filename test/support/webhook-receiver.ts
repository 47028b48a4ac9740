/**
 * A webhook receiver for tests: a node:http server on 127.0.0.1 (loopback only) that records
 * every request (headers, body, times, how it ended) and answers as a programmable behaviour says.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Observed } from "./observed.js";
import { holderOf, tcpSocket } from "./tcp-sockets.js";

export interface ReceivedRequest {
  /** 0-based, in the order the bodies were complete (the order of `requests`). */
  index: number;
  method: string;
  /** Path and query. */
  path: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Date.now() when the headers arrived: comparable with other processes' times. */
  at: number;
  /** performance.now() when the headers arrived (monotonic, for gaps). */
  t: number;
  /** performance.now() when the exchange ended (answered or cut off); undefined while it is open. */
  endT?: number;
  /** Date.now() when the exchange ended. */
  endAt?: number;
  /** The connection closed before the whole answer was sent (the client went away, or `destroy`). */
  aborted: boolean;
  /** streamgate-offset, streamgate-attempt and webhook-id, parsed for convenience. */
  offset: number;
  attempt: number;
  webhookId: string;
  /** The process that opened the connection, when the receiver was given `owners` (Linux /proc). */
  gatewayPid?: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection instead of answering. */
  destroy?: boolean;
  /** Never answer (close() drops the connection). */
  hang?: boolean;
}

/** Decides the answer to one request; `receiver.requests` already holds it (last). */
export type Behaviour = (req: ReceivedRequest, receiver: Receiver) => Reply | number | Promise<Reply | number>;

export const accept: Behaviour = () => ({ status: 204 });

export interface ReceiverOptions {
  /** Pids that may be the sender: each connection is attributed to the one holding its other end. */
  owners?: () => number[];
}

/**
 * Its until() re-checks on every request, every answer decided and every exchange ended, and
 * after `behaviour` ran, so a condition may read what the behaviour records.
 */
export class Receiver extends Observed {
  readonly requests: ReceivedRequest[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #open = new Set<ReceivedRequest>();
  readonly #maxOpen = new Map<string | undefined, number>();
  /** The sender's pid of each attributed connection. */
  readonly #owners = new WeakMap<Socket, number>();

  /** Takes over a listening server; see startReceiver. */
  constructor(
    private readonly server: Server,
    readonly port: number,
    public behaviour: Behaviour,
    options: ReceiverOptions,
  ) {
    super();
    server.on("connection", (socket: Socket) => this.#connected(socket, options.owners));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res));
  }

  /** http://127.0.0.1:<port>, for webhooks on paths of their own. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The receiver's default webhook URL, <origin>/hook. */
  get url(): string {
    return `${this.origin}/hook`;
  }

  /** Requests whose exchange has not ended yet. */
  open(): ReceivedRequest[] {
    return [...this.#open];
  }

  /** The most requests open at once, on one path or on all of them. */
  maxOpen(path?: string): number {
    return this.#maxOpen.get(path) ?? 0;
  }

  /** Waits until `count` requests (in total) have arrived. */
  async waitForCount(count: number, timeoutMs?: number): Promise<ReceivedRequest[]> {
    await this.until(() => this.requests.length >= count, `${count} requests`, timeoutMs);
    return this.requests;
  }

  /** A one-line-per-request summary (the first and last ones of many), for failure messages. */
  summary(): string {
    const line = (r: ReceivedRequest) => `#${r.index} ${r.method} ${r.path} offset=${r.offset} attempt=${r.attempt} id=${r.webhookId} t=${Math.round(r.t)}`;
    const { requests } = this;
    if (requests.length === 0) return "(no requests)";
    if (requests.length <= 40) return requests.map(line).join("\n");
    return [...requests.slice(0, 10).map(line), `... ${requests.length - 30} more ...`, ...requests.slice(-20).map(line)].join("\n");
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.ended = true;
    this.changed();
  }

  protected describe(): string {
    return this.summary();
  }

  #connected(socket: Socket, owners: (() => number[]) | undefined): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    if (!owners) return;
    const inode = tcpSocket(socket.remotePort!, this.port)?.inode;
    const pid = inode === undefined ? undefined : holderOf(inode, owners());
    if (pid !== undefined) this.#owners.set(socket, pid);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const t = performance.now();
    const record: ReceivedRequest = {
      index: -1,
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      body: "",
      at: Date.now(),
      t,
      aborted: false,
      offset: Number(headers["streamgate-offset"]),
      attempt: Number(headers["streamgate-attempt"]),
      webhookId: headers["webhook-id"] ?? "",
      ...(this.#owners.has(req.socket) && { gatewayPid: this.#owners.get(req.socket)! }),
    };
    this.#opened(record);
    const end = (aborted: boolean) => {
      if (!this.#open.delete(record)) return;
      record.endT = performance.now();
      record.endAt = Date.now();
      record.aborted = aborted;
      this.changed();
    };
    res.on("finish", () => end(false));
    res.on("close", () => end(!res.writableFinished));
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      record.body = Buffer.concat(chunks).toString("utf8");
      record.index = this.requests.length;
      this.requests.push(record);
      this.changed();
      const decided = await this.behaviour(record, this);
      const reply: Reply = typeof decided === "number" ? { status: decided } : decided;
      this.changed();
      if (reply.hang) return;
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (res.destroyed) return;
      if (reply.destroy) {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status ?? 204, reply.headers);
      res.end(reply.body);
    } catch {
      res.destroy();
    }
  }

  #opened(record: ReceivedRequest): void {
    this.#open.add(record);
    const onPath = [...this.#open].filter((r) => r.path === record.path).length;
    this.#maxOpen.set(undefined, Math.max(this.maxOpen(), this.#open.size));
    this.#maxOpen.set(record.path, Math.max(this.maxOpen(record.path), onPath));
  }
}

/** Listens on a free port of 127.0.0.1. */
export async function startReceiver(behaviour: Behaviour = accept, options: ReceiverOptions = {}): Promise<Receiver> {
  const server = createServer();
  // Keep connections, so the sender of each can still be found while it delivers.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return new Receiver(server, (server.address() as AddressInfo).port, behaviour, options);
}
