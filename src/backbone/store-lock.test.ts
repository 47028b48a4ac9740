import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockStore, StoreInUseError } from "./store-lock.js";

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "streamgate-lock-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A live process other than this one, for a lock to name. */
async function otherProcess() {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  return { pid: child.pid!, stop: () => new Promise((resolve) => (child.kill("SIGKILL"), child.once("exit", resolve))) };
}

describe("the embedded nats-server's store lock", () => {
  it("is refused while another live process holds it, naming its pid and its server's URL", async () => {
    const dir = scratch();
    const other = await otherProcess();
    try {
      writeFileSync(join(dir, "streamgate.lock"), JSON.stringify({ pid: other.pid, url: "nats://127.0.0.1:4999" }));
      const refusal = (() => {
        try {
          lockStore(dir);
        } catch (err) {
          return err;
        }
      })();
      expect(refusal).toBeInstanceOf(StoreInUseError);
      expect((refusal as Error).message).toContain(`pid ${other.pid}`);
      expect((refusal as Error).message).toContain("NATS_URL=nats://127.0.0.1:4999");
    } finally {
      await other.stop();
    }
    // Its holder gone, the lock is taken over.
    const lock = lockStore(dir);
    expect(JSON.parse(readFileSync(join(dir, "streamgate.lock"), "utf8"))).toEqual({ pid: process.pid });
    lock.running("nats://127.0.0.1:5000");
    expect(JSON.parse(readFileSync(join(dir, "streamgate.lock"), "utf8"))).toEqual({ pid: process.pid, url: "nats://127.0.0.1:5000" });
    lock.release();
    expect(existsSync(join(dir, "streamgate.lock"))).toBe(false);
  });

  it("takes over a lock file that names no holder (half written, or someone else's file)", () => {
    const dir = scratch();
    writeFileSync(join(dir, "streamgate.lock"), "{\"pid\":");
    lockStore(dir).release();
    writeFileSync(join(dir, "streamgate.lock"), "12345 not json");
    const lock = lockStore(dir);
    expect(JSON.parse(readFileSync(join(dir, "streamgate.lock"), "utf8"))).toEqual({ pid: process.pid });
    lock.release();
  });
});
