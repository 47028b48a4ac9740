import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Another live process runs an embedded nats-server on this store. */
export class StoreInUseError extends Error {
  constructor(storeDir: string, holder: LockHolder) {
    super(
      `another process (pid ${holder.pid}) runs an embedded nats-server on ${storeDir}: two servers on one JetStream store corrupt it. ` +
        `Stop that one, give this one its own STREAMGATE_DATA_DIR, or share the running server with NATS_URL=${holder.url ?? "<its URL>"}.`,
    );
    this.name = "StoreInUseError";
  }
}

/** What the lock file says: who holds the store, and (once it runs) its server's URL. */
interface LockHolder {
  pid: number;
  url?: string;
}

export interface StoreLock {
  /** Writes the running server's URL into the lock, for whoever finds the store taken. */
  running(url: string): void;
  release(): void;
}

/**
 * Takes the store's lock file for this process, so one JetStream store gets one embedded
 * nats-server; a lock left by a process that is gone is taken over.
 */
export function lockStore(storeDir: string): StoreLock {
  const path = join(storeDir, "streamgate.lock");
  const write = (holder: LockHolder, flag: string) => writeFileSync(path, JSON.stringify(holder), { flag });
  for (;;) {
    try {
      write({ pid: process.pid }, "wx");
      return { running: (url) => write({ pid: process.pid, url }, "w"), release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readHolder(path);
    if (holder && holder.pid !== process.pid && isAlive(holder.pid)) throw new StoreInUseError(storeDir, holder);
    rmSync(path, { force: true });
  }
}

/** The holder the lock file names; undefined for a file that names none (half written, or not ours). */
function readHolder(path: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    return Number.isInteger(holder.pid) && holder.pid! > 0 ? { pid: holder.pid!, ...(typeof holder.url === "string" && { url: holder.url }) } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
