/**
 * A webhook receiver for tests: a node:http server on 127.0.0.1 (loopback only) that records
 * every request (headers, body, times) and answers as a programmable behaviour says.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ReceivedRequest {
  /** 0-based, in arrival order. */
  index: number;
  method: string;
  /** Path and query. */
  path: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Date.now() when the headers arrived. */
  at: number;
  /** performance.now() when the headers arrived (monotonic, for gaps). */
  t: number;
  /** performance.now() when the body was complete. */
  bodyT: number;
  /** performance.now() when the exchange ended (answered or dropped by the client). */
  endT?: number;
  /** The client went away before the answer was sent. */
  aborted: boolean;
  /** streamgate-offset, streamgate-attempt and webhook-id, parsed for convenience. */
  offset: number;
  attempt: number;
  webhookId: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection instead of answering. */
  destroy?: boolean;
}

/** Decides the answer to one request; `receiver.requests` already holds it (last). */
export type Behaviour = (req: ReceivedRequest, receiver: Receiver) => Reply | number | Promise<Reply | number>;

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests whose answer is not finished yet. */
  readonly open: number;
  /** The most requests ever open at once. */
  readonly maxOpen: number;
  behaviour: Behaviour;
  /** Waits until `predicate(requests)` holds; fails with a summary of what arrived. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedRequest[]>;
  /** Waits until `count` requests (in total) have arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** A one-line-per-request summary, for failure messages. */
  summary(): string;
  close(): Promise<void>;
}

export const accept: Behaviour = () => ({ status: 204 });

export async function startReceiver(behaviour: Behaviour = accept): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  let maxOpen = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const t = performance.now();
    const at = Date.now();
    open++;
    maxOpen = Math.max(maxOpen, open);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const record: ReceivedRequest = {
      index: requests.length,
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      body: "",
      at,
      t,
      bodyT: t,
      aborted: false,
      offset: Number(headers["streamgate-offset"]),
      attempt: Number(headers["streamgate-attempt"]),
      webhookId: headers["webhook-id"] ?? "",
    };
    let ended = false;
    const end = (aborted: boolean) => {
      if (ended) return;
      ended = true;
      open--;
      record.endT = performance.now();
      record.aborted = aborted;
    };
    res.on("close", () => end(!res.writableFinished));
    res.on("finish", () => end(false));
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      record.body = Buffer.concat(chunks).toString("utf8");
      record.bodyT = performance.now();
      requests.push(record);
      const decided = await receiver.behaviour(record, receiver);
      const reply: Reply = typeof decided === "number" ? { status: decided } : decided;
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
  };

  const server = createServer((req, res) => void handle(req, res));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const summary = () =>
    requests
      .map((r) => `#${r.index} ${r.method} ${r.path} offset=${r.offset} attempt=${r.attempt} id=${r.webhookId} t=${Math.round(r.t)}`)
      .join("\n") || "(no requests)";

  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    behaviour,
    async waitFor(predicate, timeoutMs = 10_000, what = "the expected requests") {
      const deadline = performance.now() + timeoutMs;
      while (!predicate(requests)) {
        if (performance.now() > deadline) {
          throw new Error(`receiver: timed out after ${timeoutMs} ms waiting for ${what}; got:\n${summary()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return requests;
    },
    waitForCount(count, timeoutMs) {
      return receiver.waitFor((r) => r.length >= count, timeoutMs, `${count} requests`);
    },
    summary,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
