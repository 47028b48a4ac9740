#!/usr/bin/env node
// npm run codegen: lint the schemas, generate code into generated/, and write the descriptor
// sets the gateway loads at run time (generated/descriptors.binpb; tests also use
// generated/test/descriptors.binpb, which adds the test-only schemas).
// npm run codegen -- --check: generate into a scratch directory and fail if generated/ differs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { keepNegativeZero } from "./ts-proto-fixups.mjs";

const buf = join("node_modules", ".bin", "buf");
const run = (...args) => execFileSync(buf, args, { stdio: "inherit" });
const check = process.argv.includes("--check");

/**
 * Everything codegen writes, under `root`: the served schemas (proto/) into generated/, the
 * test-only ones (test/proto/) into generated/test/. The gateway's descriptor set holds only
 * the served schemas; the test one holds both.
 */
function generate(root) {
  const out = (path) => (root ? ["-o", join(root, path)] : ["-o", path]);
  run("generate", "proto", "--template", "buf.gen.yaml", ...(root ? ["-o", root] : []));
  run("generate", "test/proto", "--template", "buf.gen.test.yaml", ...(root ? ["-o", root] : []));
  for (const dir of ["generated/ts", "generated/test/ts"]) keepNegativeZero(join(root ?? ".", dir));
  run("build", "proto", ...out("generated/descriptors.binpb"));
  run("build", ...out("generated/test/descriptors.binpb"));
}

run("lint");
if (!check) {
  generate();
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), "streamgate-codegen-"));
try {
  generate(scratch);
  const differences = compareTrees("generated", join(scratch, "generated"));
  if (differences.length > 0) {
    console.error("generated/ is not what `npm run codegen` makes from proto/:");
    for (const d of differences) console.error("  " + d);
    console.error("Run `npm run codegen` and commit the result.");
    process.exit(1);
  }
  console.log("generated/ is up to date");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function compareTrees(committed, fresh) {
  const a = listFiles(committed);
  const b = listFiles(fresh);
  const out = [];
  for (const f of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(f)) out.push(`missing: generated/${f}`);
    else if (!b.has(f)) out.push(`stale: generated/${f}`);
    else if (!readFileSync(a.get(f)).equals(readFileSync(b.get(f)))) out.push(`changed: generated/${f}`);
  }
  return out.sort();
}

function listFiles(root, dir = root, files = new Map()) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listFiles(root, path, files);
    else files.set(relative(root, path), path);
  }
  return files;
}
