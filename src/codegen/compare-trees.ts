import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

/**
 * How the generated code under `dirs` differs from what `generate` makes now: it generates
 * under a scratch root (the dirs as paths below it), which is compared with the tree, then removed.
 */
export function staleGenerated(dirs: readonly string[], generate: (root: string) => void): string[] {
  const scratch = mkdtempSync(join(tmpdir(), "streamgate-codegen-"));
  try {
    generate(scratch);
    return dirs.flatMap((dir) => compareTrees(dir, join(scratch, dir)));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** How the files under `committed` differ from those under `fresh`: missing, stale or changed. */
export function compareTrees(committed: string, fresh: string): string[] {
  const a = listFiles(committed);
  const b = listFiles(fresh);
  const out: string[] = [];
  for (const f of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(f)) out.push(`missing: ${join(committed, f)}`);
    else if (!b.has(f)) out.push(`stale: ${join(committed, f)}`);
    else if (!readFileSync(a.get(f)!).equals(readFileSync(b.get(f)!))) out.push(`changed: ${join(committed, f)}`);
  }
  return out.sort();
}

function listFiles(root: string, dir = root, files = new Map<string, string>()): Map<string, string> {
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listFiles(root, path, files);
    else files.set(relative(root, path), path);
  }
  return files;
}
