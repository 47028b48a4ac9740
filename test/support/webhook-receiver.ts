import { readdir, readFile, readlink } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One POST a webhook receiver got. */
export interface ReceivedRequest {
  /** Arrival order over the whole receiver, from 0. */
  seq: number;
  path: string;
  offset: number;
  attempt: number;
  eventId: string;
  /** Date.now() when the whole request body had arrived. */
  arrivedAt: number;
  /** Date.now() when the response was completely handed to the OS. */
  finishedAt?: number;
  /** The client closed the connection before the response was written. */
  aborted?: boolean;
  /** The process that opened the connection, when owners() named it (Linux /proc). */
  gatewayPid?: number;
}

/** How to answer one request: after delayMs with status, or never ("hang"). */
export type Answer = { delayMs?: number; status?: number } | "hang";

export interface ReceiverOptions {
  answer?: (request: ReceivedRequest) => Answer;
  /** Pids that may be the sender; each connection is attributed to one of them. */
  owners?: () => number[];
  onRequest?: (request: ReceivedRequest) => void;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests whose answer has not been written yet. */
  open(): ReceivedRequest[];
  /** The most requests one path had open at once. */
  maxConcurrent(path: string): number;
  close(): Promise<void>;
}

/** A local node:http webhook receiver on 127.0.0.1 that records every delivery. */
export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const openRequests = new Set<ReceivedRequest>();
  const concurrent = new Map<string, { now: number; max: number }>();
  const owners = new WeakMap<Socket, Promise<number | undefined>>();
  const hanging = new Set<ServerResponse>();
  let port = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const record: ReceivedRequest = {
        seq: requests.length,
        path,
        offset: Number(req.headers["streamgate-offset"]),
        attempt: Number(req.headers["streamgate-attempt"]),
        eventId: String(req.headers["webhook-id"]),
        arrivedAt: Date.now(),
      };
      requests.push(record);
      openRequests.add(record);
      const c = concurrent.get(path) ?? { now: 0, max: 0 };
      c.now++;
      c.max = Math.max(c.max, c.now);
      concurrent.set(path, c);
      const owner = owners.get(req.socket);
      if (owner) void owner.then((pid) => pid !== undefined && (record.gatewayPid = pid));
      const settle = () => {
        if (!openRequests.delete(record)) return;
        c.now--;
      };
      res.on("finish", () => {
        record.finishedAt = Date.now();
        settle();
      });
      res.on("close", () => {
        if (record.finishedAt === undefined) record.aborted = true;
        settle();
      });
      options.onRequest?.(record);
      const answer = options.answer?.(record) ?? {};
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { "content-type": "text/plain" });
        res.end("ok");
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  // Keep connections, so the sender of each can still be found while it delivers.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  if (options.owners) {
    server.on("connection", (socket: Socket) => {
      owners.set(socket, ownerOf(socket.remotePort!, port, options.owners!()));
    });
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    open: () => [...openRequests],
    maxConcurrent: (path) => concurrent.get(path)?.max ?? 0,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Which of pids holds the client end (local port clientPort) of a connection to serverPort. */
async function ownerOf(clientPort: number, serverPort: number, pids: number[]): Promise<number | undefined> {
  try {
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
    let inode: string | undefined;
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      const lines = (await readFile(table, "utf8").catch(() => "")).split("\n").slice(1);
      for (const line of lines) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10) continue;
        if (f[1]!.endsWith(":" + hex(clientPort)) && f[2]!.endsWith(":" + hex(serverPort))) inode = f[9];
      }
      if (inode) break;
    }
    if (!inode) return undefined;
    const target = `socket:[${inode}]`;
    for (const pid of pids) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === target) return pid;
      }
    }
  } catch {
    // Attribution is best effort.
  }
  return undefined;
}

/** First delivery of each offset, in arrival order, and how many requests beyond the first there were. */
export function summarize(requests: ReceivedRequest[], path?: string) {
  const mine = path === undefined ? requests : requests.filter((r) => r.path === path);
  const first = new Map<number, ReceivedRequest>();
  const counts = new Map<number, number>();
  for (const r of mine) {
    if (!first.has(r.offset)) first.set(r.offset, r);
    counts.set(r.offset, (counts.get(r.offset) ?? 0) + 1);
  }
  const firstOrder = [...first.values()].sort((a, b) => a.seq - b.seq).map((r) => r.offset);
  const outOfOrder: [number, number][] = [];
  for (let i = 1; i < firstOrder.length; i++) {
    if (firstOrder[i]! < firstOrder[i - 1]!) outOfOrder.push([firstOrder[i - 1]!, firstOrder[i]!]);
  }
  return {
    requests: mine.length,
    distinct: first.size,
    duplicates: mine.length - first.size,
    firstOrder,
    outOfOrder,
    duplicatedOffsets: [...counts].filter(([, n]) => n > 1).map(([o]) => o),
  };
}

export function missing(expected: Iterable<number>, requests: ReceivedRequest[], path?: string): number[] {
  const got = new Set((path === undefined ? requests : requests.filter((r) => r.path === path)).map((r) => r.offset));
  return [...expected].filter((o) => !got.has(o));
}
