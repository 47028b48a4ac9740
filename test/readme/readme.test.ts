/**
 * README.md, followed in order, section by section, in a copy of this repository: every fenced
 * code block is run, applied or checked, and what a command prints is compared with what the
 * README shows. A block the test does not know how to exercise fails it, by its line.
 *
 * By language, with no directive:
 *   sh      each command (continuation lines joined) runs with bash, in order; variables a
 *           command assigns (B=...) carry to the section's later commands. A `# {...}` comment
 *           trailing a command, or on the line after it, is its output (expected-output.ts).
 *           A command with no output shown must end by itself, with status 0 and no
 *           {"error":...} answer. `npm start` runs in the background as the section's gateway.
 *   python  the block runs as a program with python3.
 *   ts, js  the block runs as a program with `npx tsx` in the copy, with the import lines of
 *           the section's earlier ts/js blocks it does not have itself.
 *   anything else fails, unless a directive says what it is.
 *
 * Directives, an HTML comment on the line above the block: <!-- readme-test: WORD [ARG] -->
 *   output          (a text block) what the previous block's last command or program prints;
 *                   a command still running (a stream) is stopped once it has printed it.
 *   file PATH       appended to PATH in the copy (a schema change, a program written bit by bit).
 *   excerpt PATH    part of the file PATH in the copy, comments and whitespace aside.
 *   config          (json) a gateway configuration: `streamgate config check` must accept it;
 *                   it is STREAMGATE_CONFIG for the rest of its section.
 *   browser         (js, ts) bundled with esbuild and run in a chromium page on another origin
 *                   (browser-blocks.ts); the page functions it calls (show...) must be called.
 *   skip CMD, CMD   (sh) the commands named are not run (npm ci, npm test: the test is part of
 *                   npm test): bash must parse them and package.json have their scripts; the rest runs.
 *   project         (sh) runs in a fresh directory outside the copy, a new project, where
 *                   `npm install streamgate @streamgate/client` installs the packages packed from the copy.
 *
 * Addresses and placeholders are replaced as substitutions.ts lists; what the test does with
 * a command's output (tokens, keys, webhook secrets) is listed in section-run.ts.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrowserPages } from "./browser-blocks.js";
import { planReadme } from "./plan.js";
import { runToEnd } from "./processes.js";
import { parseReadme } from "./readme-blocks.js";
import { SectionRun, type Shared } from "./section-run.js";
import { makeWorkingCopy } from "./working-copy.js";

const repo = process.cwd();
const plan = planReadme(parseReadme(readFileSync(join(repo, "README.md"), "utf8")));

/** The environment a reader's terminal has: none of the test runner's (its source condition, npm's, vitest's). */
const readerEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !["NODE_OPTIONS", "NODE_ENV"].includes(name) && !name.startsWith("npm_") && !name.startsWith("VITEST")),
);

let shared: Shared | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  const copy = await makeWorkingCopy(repo);
  dirs.push(copy);
  // What `npm ci && npm start` leaves a reader with: the packages built (dist/).
  await runToEnd("npm", ["run", "build"], { cwd: copy, env: readerEnv }, 300_000);
  const pages = await BrowserPages.start();
  let packed: Promise<string[]> | undefined;
  const pack = async () => {
    const into = await mkdtemp(join(tmpdir(), "streamgate-readme-packed-"));
    dirs.push(into);
    const out = await runToEnd("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", into, "--workspaces", "--include-workspace-root"], { cwd: copy, env: readerEnv }, 300_000);
    return (JSON.parse(out.stdout) as { filename: string }[]).map((p) => join(into, p.filename.replace(/^@streamgate\//, "streamgate-")));
  };
  shared = { copy, env: readerEnv, pages, tarballs: () => (packed ??= pack()) };
}, 400_000);

afterAll(async () => {
  await shared?.pages.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

it("knows how to exercise every code block of README.md", () => {
  expect(plan.problems).toEqual([]);
});

describe("README.md, followed in order", () => {
  for (const section of plan.sections) {
    it(`## ${section.section.title} (README.md:${section.section.line})`, { timeout: 600_000 }, async () => {
      if (!shared) throw new Error("the working copy was not made (see beforeAll)");
      const run = await SectionRun.start(shared, section);
      try {
        await run.run();
      } finally {
        console.info(`## ${section.section.title}\n  ${run.trace.join("\n  ")}`);
      }
    });
  }
});
