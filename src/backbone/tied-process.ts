import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";

// Debian installs daemons (nats-server, haproxy) to /usr/sbin, which is often missing from a non-root PATH.
const EXTRA_SEARCH_DIRS = ["/usr/sbin", "/usr/local/bin"];

/** The path of an executable called `name` on PATH, in /usr/sbin or in /usr/local/bin. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const pathDirs = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const dir of new Set([...pathDirs, ...EXTRA_SEARCH_DIRS])) {
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Spawns a server process that must not outlive us. Where setpriv exists (Linux), it sets
 * PR_SET_PDEATHSIG and then execs the binary in place, so the child pid is the binary itself
 * and the kernel sends it SIGTERM even if we are SIGKILLed. The signal fires when the spawning
 * *thread* exits, so spawning from a worker thread ties the server to that worker's lifetime.
 */
export async function spawnTiedToParent(binary: string, args: readonly string[], options: SpawnOptions): Promise<ChildProcess> {
  // setpriv only exists (and PR_SET_PDEATHSIG only works) on Linux.
  const setpriv = process.platform === "linux" ? await findExecutable("setpriv") : undefined;
  const child = setpriv ? spawn(setpriv, ["--pdeathsig", "TERM", "--", binary, ...args], options) : spawn(binary, args, options);
  if (child.pid !== undefined) killOnProcessExit(child);
  return child;
}

const liveChildren = new Set<ChildProcess>();

function killLiveChildrenSync(): void {
  // SIGTERM lets a server flush its store; it finishes shutting down after we are gone.
  for (const child of liveChildren) child.kill("SIGTERM");
}

// Covers uncaught exceptions and process.exit() where setpriv is unavailable. Signals that
// kill Node outright (SIGKILL, default SIGTERM) skip "exit"; only pdeathsig covers those.
function killOnProcessExit(child: ChildProcess): void {
  if (liveChildren.size === 0) process.on("exit", killLiveChildrenSync);
  liveChildren.add(child);
  child.once("exit", () => {
    liveChildren.delete(child);
    if (liveChildren.size === 0) process.off("exit", killLiveChildrenSync);
  });
}
