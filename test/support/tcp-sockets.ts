/** Loopback TCP connections as Linux shows them in /proc: who holds one end, and what it has queued. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface TcpSocket {
  /** Bytes sent but not yet acknowledged by the peer. */
  txQueue: number;
  /** Bytes received but not yet read by the process that holds the socket. */
  rxQueue: number;
  inode: string;
}

const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");

/** The socket whose local end is on localPort and whose peer is on remotePort, from /proc/net/tcp and tcp6. */
export function tcpSocket(localPort: number, remotePort: number): TcpSocket | undefined {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[1]!.endsWith(":" + hex(localPort)) && f[2]!.endsWith(":" + hex(remotePort))) {
        const [tx, rx] = f[4]!.split(":");
        return { txQueue: parseInt(tx!, 16), rxQueue: parseInt(rx!, 16), inode: f[9]! };
      }
    }
  }
  return undefined;
}

/** Which of `pids` holds the socket with this inode, if any (its file descriptors name it). */
export function holderOf(inode: string, pids: readonly number[]): number | undefined {
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // the process is gone
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
      } catch {
        // closed while we looked
      }
    }
  }
  return undefined;
}
