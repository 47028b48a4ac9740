/**
 * The commands a `readme-test: skip` block names but the test does not run (npm ci would
 * reinstall node_modules, npm test would run this suite inside itself): bash must parse each,
 * and npm must have what it names in the directory it would run in.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ReadmeFailure } from "./readme-blocks.js";

const run = promisify(execFile);

export async function checkSkipped(command: string, cwd: string, line: number): Promise<void> {
  const at = `README.md:${line}: \`${command}\``;
  await run("bash", ["-n", "-c", command], { timeout: 10_000 }).catch((err: Error) => {
    throw new ReadmeFailure(`${at} does not parse: ${err.message}`);
  });
  const script = /^npm (?:run(?:-script)? (\S+)|(start|test))(?:\s|$)/.exec(command);
  const name = script?.[1] ?? script?.[2];
  if (name !== undefined) {
    const manifest = JSON.parse(await readFile(join(cwd, "package.json"), "utf8")) as { scripts?: Record<string, string> };
    if (manifest.scripts?.[name] === undefined) throw new ReadmeFailure(`${at}: package.json has no script "${name}"`);
    return;
  }
  if (/^npm ci(?:\s|$)/.test(command)) {
    if (!existsSync(join(cwd, "package-lock.json"))) throw new ReadmeFailure(`${at} needs a package-lock.json`);
    return;
  }
  throw new ReadmeFailure(`${at}: "readme-test: skip" takes npm ci, npm start, npm test and npm run commands only`);
}
