/**
 * Preloaded into a child gateway (`node --import tsx --import <this file> src/cli/main.ts serve`)
 * so a test can see what only the gateway sees: each server-side WebSocket's bufferedAmount,
 * and every close()/terminate() it calls, with the code. Reports over the IPC channel every
 * 100 ms. It only observes (wraps three methods of ws's WebSocket and calls through).
 */
import { WebSocket } from "ws";

export interface ProbeSocket {
  /** The client's port: which client this server-side socket talks to. */
  remotePort: number | undefined;
  bufferedAmount: number;
  readyState: number;
}

export interface ProbeCall {
  at: number;
  remotePort: number | undefined;
  call: "close" | "terminate";
  code?: number;
  reason?: string;
  bufferedAmount: number;
}

export interface ProbeReport {
  kind: "ws-probe";
  at: number;
  sockets: ProbeSocket[];
  calls: ProbeCall[];
  memory: NodeJS.MemoryUsage;
}

const sockets = new Set<WebSocket>();
const pending: ProbeCall[] = [];
const proto = WebSocket.prototype as WebSocket & Record<string, unknown>;

function remotePortOf(ws: WebSocket): number | undefined {
  return (ws as unknown as { _socket?: { remotePort?: number } })._socket?.remotePort;
}

function track(ws: WebSocket): void {
  if (sockets.has(ws)) return;
  sockets.add(ws);
  ws.once("close", () => {
    // Reported once more as closed, then forgotten.
    setTimeout(() => sockets.delete(ws), 300).unref();
  });
}

const send = proto.send;
proto.send = function (this: WebSocket, ...args: unknown[]) {
  track(this);
  return (send as (...a: unknown[]) => void).apply(this, args);
};
const close = proto.close;
proto.close = function (this: WebSocket, code?: number, reason?: string | Buffer) {
  track(this);
  pending.push({
    at: Date.now(),
    remotePort: remotePortOf(this),
    call: "close",
    ...(code !== undefined && { code }),
    ...(reason !== undefined && { reason: String(reason) }),
    bufferedAmount: this.bufferedAmount,
  });
  return (close as (c?: number, r?: string | Buffer) => void).call(this, code, reason);
};
const terminate = proto.terminate;
proto.terminate = function (this: WebSocket) {
  pending.push({ at: Date.now(), remotePort: remotePortOf(this), call: "terminate", bufferedAmount: this.bufferedAmount });
  return (terminate as () => void).call(this);
};

if (process.send) {
  setInterval(() => {
    const report: ProbeReport = {
      kind: "ws-probe",
      at: Date.now(),
      sockets: [...sockets].map((ws) => ({ remotePort: remotePortOf(ws), bufferedAmount: ws.bufferedAmount, readyState: ws.readyState })),
      calls: pending.splice(0),
      memory: process.memoryUsage(),
    };
    process.send?.(report);
  }, 100).unref();
}
