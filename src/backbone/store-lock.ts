import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Another live process runs an embedded nats-server on this store. */
export class StoreInUseError extends Error {
  constructor(storeDir: string, pid: number) {
    super(
      `another process (pid ${pid}) runs an embedded nats-server on ${storeDir}: two servers on one JetStream store corrupt it. ` +
        "Stop that one, give this one its own STREAMGATE_DATA_DIR, or set NATS_URL to share the running server.",
    );
    this.name = "StoreInUseError";
  }
}

/**
 * Takes the store's lock file for this process, so one JetStream store gets one embedded
 * nats-server; a lock left by a process that is gone is taken over. Returns its release.
 */
export function lockStore(storeDir: string): () => void {
  const path = join(storeDir, "streamgate.lock");
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(readFileSync(path, "utf8"));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new StoreInUseError(storeDir, holder);
    rmSync(path, { force: true });
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
