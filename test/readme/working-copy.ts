/**
 * The reader's clone, made in a temporary directory: this repository's files as they are in the
 * working tree (tracked, and untracked ones git does not ignore), with a node_modules of links
 * into this repository's installed packages, except that the workspace packages
 * (@streamgate/protocol, @streamgate/client) are the copy's own, as `npm ci` would link them.
 * Nothing the README does there touches this repository's tree.
 */
import { execFile } from "node:child_process";
import { copyFile, lstat, mkdir, mkdtemp, readdir, readlink, realpath, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The workspace packages, by their directory in the repository. */
const WORKSPACES: Record<string, string> = { protocol: "../../protocol", client: "../../clients" };

export async function makeWorkingCopy(repo: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-readme-"));
  const listed = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
  const files = listed.stdout.split("\0").filter((f) => f !== "" && f !== "node_modules" && !f.startsWith("node_modules/"));
  for (const file of files) {
    const from = join(repo, file);
    const stat = await lstat(from).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined; // deleted in the working tree, not yet in git
      throw err;
    });
    if (!stat) continue;
    const to = join(dir, file);
    await mkdir(dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) await symlink(await readlink(from), to);
    else await copyFile(from, to);
  }
  await linkNodeModules(join(repo, "node_modules"), join(dir, "node_modules"));
  return dir;
}

async function linkNodeModules(installed: string, to: string): Promise<void> {
  const real = await realpath(installed);
  await mkdir(join(to, "@streamgate"), { recursive: true });
  for (const [name, target] of Object.entries(WORKSPACES)) await symlink(target, join(to, "@streamgate", name));
  for (const entry of await readdir(real)) {
    if (entry === "@streamgate") continue;
    await symlink(join(real, entry), join(to, entry));
  }
}
