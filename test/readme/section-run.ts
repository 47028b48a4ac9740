/**
 * One README section, followed as a reader follows it in one terminal: its steps in order, in
 * the working copy (or, after a `project` block, in a fresh project directory), with shell
 * variables carried from block to block, on a fresh data dir, against the section's gateway.
 *
 * The section's gateway is the one a block starts with `npm start` (or `streamgate serve`),
 * which then runs in the background until the section ends, the next command waiting until it
 * is ready; when a block talks to the gateway and none runs yet, the test starts one the same
 * way (`npm start` with STREAMGATE_NATS_PORT pinned). PORT is set for every command: it is
 * what the README's 8080 stands for; STREAMGATE_URL too, for the CLI's client commands, whose
 * default is http://127.0.0.1:8080.
 *
 * What a reader does with a command's output, the test does too (and nothing else):
 *   - `streamgate token` prints a token: the section's browser pages get it as the HttpOnly
 *     streamgate_token cookie, as the reader's backend would set it;
 *   - `streamgate keys create` prints a key and its auth.apiKeys entry: the key becomes
 *     $STREAMGATE_API_KEY, the entry is added to the section's configuration;
 *   - a webhook registered for the test's receiver: its deliveries must verify with the secret
 *     the registration answered (verifyWebhook, as in clients/examples/webhook-receiver.ts).
 */
import { existsSync } from "node:fs";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/gateway-process.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { sleep } from "../support/wait.js";
import type { BrowserPages, OpenPage } from "./browser-blocks.js";
import { parsedObject } from "./expected-output.js";
import type { SectionPlan, Step } from "./plan.js";
import { runToEnd, startGroup, type Group } from "./processes.js";
import { ReadmeFailure, where, type Block } from "./readme-blocks.js";
import { andParts, type ShellCommand } from "./shell-commands.js";
import { checkSkipped } from "./skipped-commands.js";
import { addressesGateway, substitute, type Addresses } from "./substitutions.js";
import { watchOutput } from "./watch-output.js";
import { verifiedDelivery, type RegisteredWebhook } from "./webhook-deliveries.js";

/** How long a command may run (a stream: until it printed what the README shows). */
const COMMAND_MS = 120_000;
/** How long `npm start` may take to answer /readyz (it runs the build first). */
const GATEWAY_READY_MS = 180_000;

export interface Shared {
  /** The working copy (working-copy.ts). */
  copy: string;
  /** The reader's environment: none of the test runner's own settings. */
  env: NodeJS.ProcessEnv;
  pages: BrowserPages;
  /** The packages packed from the working copy, packed once on first use. */
  tarballs(): Promise<string[]>;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=\S*$/;
const GATEWAY_COMMAND = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:npm start|(?:npx )?streamgate serve)(?:\s|$)/;
/** In a project: installs the packages from the registry, where the test installs the packed ones. */
const INSTALL_PACKAGES = /^npm install streamgate @streamgate\/client(?=\s|$)/;
const NODE_IMPORT = /^import .+ from .+;$/gm;
/** The system's python3, where Debian's python3-websockets installs (.ci/run), whatever python3 PATH finds first. */
const PYTHON = "/usr/bin/python3";

export class SectionRun {
  #cwd: string;
  readonly #env: NodeJS.ProcessEnv;
  /** Shell assignments (B=...) made so far, run before every later command. */
  readonly #prelude: string[] = [];
  /** Whether one of them names the gateway's address. */
  #preludeAddressesGateway = false;
  #gateway: Group | undefined;
  #configFile: string | undefined;
  #token: string | undefined;
  readonly #pages: OpenPage[] = [];
  readonly #webhooks: RegisteredWebhook[] = [];
  readonly #dirs: string[];
  /** What was done, block by block, for the test's log. */
  readonly #trace: string[] = [];

  private constructor(
    private readonly shared: Shared,
    private readonly plan: SectionPlan,
    private readonly addresses: Addresses,
    private readonly receiver: Receiver,
    private readonly tmp: string,
  ) {
    this.#cwd = shared.copy;
    this.#dirs = [tmp];
    this.#env = {
      ...shared.env,
      PATH: `${shared.env.PATH ?? ""}:/usr/sbin`,
      PORT: new URL(addresses.gateway).port,
      STREAMGATE_URL: addresses.gateway,
      STREAMGATE_DATA_DIR: join(tmp, "data"),
      // What the README says to set for a receiver on your own machine (the test's receiver is).
      STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8",
      // A terminal's line buffering, for what a pipe would otherwise hold back.
      PYTHONUNBUFFERED: "1",
      // Nothing a section runs may fetch a package (a project section installs, preferring the cache).
      npm_config_offline: "true",
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
    };
  }

  static async start(shared: Shared, plan: SectionPlan): Promise<SectionRun> {
    const tmp = await mkdtemp(join(tmpdir(), "streamgate-readme-section-"));
    const receiver = await startReceiver();
    const addresses: Addresses = {
      gateway: `http://127.0.0.1:${await freePort()}`,
      natsPort: await freePort(),
      pageOrigin: shared.pages.origin,
      webhookReceiver: receiver.url,
    };
    return new SectionRun(shared, plan, addresses, receiver, tmp);
  }

  /** What run() did so far, one line a command or block. */
  get trace(): readonly string[] {
    return this.#trace;
  }

  /** Every step in order, then what the section's pages and webhooks must have done; then it cleans up. */
  async run(): Promise<void> {
    try {
      for (const step of this.plan.steps) await this.#step(step);
      for (const page of this.#pages) await page.check();
      if (this.#pages.length > 0) this.#trace.push(`the pages called their functions (${this.#pages.length} page(s))`);
      for (const webhook of this.#webhooks) {
        await verifiedDelivery(this.receiver, webhook);
        this.#trace.push(`webhook ${webhook.id}: a delivery verified with its secret`);
      }
    } finally {
      await this.#cleanUp();
    }
  }

  #sub(text: string): string {
    return substitute(text, this.addresses);
  }

  async #step(step: Step): Promise<void> {
    switch (step.kind) {
      case "shell":
        if (step.project) await this.#enterProject();
        for (const command of step.commands) await this.#shell(command, step.skip);
        return;
      case "program":
        await this.#program(step.block, step.runtime, step.expected);
        this.#trace.push(`${where(step.block)}: ran with ${step.runtime}${step.expected ? ", its output compared" : ""}`);
        return;
      case "file":
        await this.#appendFile(step.block, step.path);
        this.#trace.push(`${where(step.block)}: appended to ${step.path}`);
        return;
      case "excerpt":
        await this.#excerpt(step.block, step.path);
        this.#trace.push(`${where(step.block)}: found in ${step.path} (checked, not run)`);
        return;
      case "config":
        await this.#config(step.block);
        this.#trace.push(`${where(step.block)}: streamgate config check accepted it`);
        return;
      case "browser":
        await this.#ensureGateway();
        this.#pages.push(await this.shared.pages.open(step.block, this.#sub(step.block.text), { cwd: this.#cwd, gateway: this.addresses.gateway, cookie: this.#token }));
        this.#trace.push(`${where(step.block)}: loaded in chromium${this.#token ? ", with the token as its cookie" : ""}`);
        return;
    }
  }

  async #enterProject(): Promise<void> {
    if (this.#cwd !== this.shared.copy) return;
    this.#cwd = await mkdtemp(join(tmpdir(), "streamgate-readme-project-"));
    this.#dirs.push(this.#cwd);
    // Installing needs the registry for the packages' own dependencies (from the cache when it has them).
    delete this.#env.npm_config_offline;
    this.#env.npm_config_prefer_offline = "true";
  }

  async #shell(command: ShellCommand, skip: string[]): Promise<void> {
    let text = this.#sub(command.text);
    if (this.#cwd !== this.shared.copy && INSTALL_PACKAGES.test(text)) text = text.replace(INSTALL_PACKAGES, `npm install ${(await this.shared.tarballs()).join(" ")}`);
    if (skip.length > 0) {
      const parts = andParts(text);
      const skipped = parts.filter((part) => skip.some((s) => part === s || part.startsWith(`${s} `)));
      for (const part of skipped) {
        await checkSkipped(part, this.#cwd, command.line);
        this.#trace.push(`README.md:${command.line} checked, not run: ${part}`);
      }
      text = parts.filter((part) => !skipped.includes(part)).join(" && ");
      if (text === "") return;
    }
    const at = `README.md:${command.line}`;
    if (ASSIGNMENT.test(text)) {
      this.#prelude.push(text);
      this.#preludeAddressesGateway ||= addressesGateway(command.text);
      return;
    }
    if (GATEWAY_COMMAND.test(text)) {
      await this.#startGateway(text, at);
      this.#trace.push(`${at} started the gateway: ${text}`);
      return;
    }
    // Directly, or through a variable assigned before (B=http://127.0.0.1:8080/...).
    if (this.#preludeAddressesGateway || addressesGateway(command.text)) await this.#ensureGateway();
    const stdout = await this.#watch(startGroup("bash", ["-c", [...this.#prelude, text].join("\n")], this.#options()), command.expected, `${at} \`${text}\``);
    this.#trace.push(`${at} ran${command.expected ? ", its output compared" : ""}: ${text.split("\n")[0]}`);
    await this.#capture(text, stdout, at);
  }

  #options() {
    return { cwd: this.#cwd, env: this.#env };
  }

  async #startGateway(text: string, at: string): Promise<void> {
    if (this.#gateway) throw new ReadmeFailure(`${at}: starts a second gateway in one section`);
    const gateway = startGroup("bash", ["-c", [...this.#prelude, text].join("\n")], this.#options());
    this.#gateway = gateway;
    const deadline = Date.now() + GATEWAY_READY_MS;
    for (;;) {
      const status = await fetch(`${this.addresses.gateway}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
        (res) => res.status,
        // Not listening yet (TypeError: fetch failed), or not answering yet (the timeout).
        (err: unknown) => (err instanceof TypeError || err instanceof DOMException ? undefined : Promise.reject(err)),
      );
      if (status === 200) return;
      if (gateway.ended() || Date.now() > deadline) {
        const how = gateway.ended() ? "ended" : `did not answer /readyz with 200 within ${GATEWAY_READY_MS} ms`;
        throw new ReadmeFailure(`${at} \`${text}\` ${how}:\n${gateway.stdout()}\n${gateway.stderr()}`);
      }
      await sleep(100);
    }
  }

  async #ensureGateway(): Promise<void> {
    if (this.#gateway) return;
    const start = `STREAMGATE_NATS_PORT=${this.addresses.natsPort} npm start`;
    await this.#startGateway(start, "the section's gateway");
    this.#trace.push(`started the section's gateway: ${start}${this.#env.STREAMGATE_CONFIG ? " with its configuration" : ""}`);
  }

  async #stopGateway(): Promise<void> {
    const gateway = this.#gateway;
    this.#gateway = undefined;
    await gateway?.stop();
  }

  #watch(group: Group, expected: string[] | undefined, what: string): Promise<string> {
    return watchOutput(group, expected?.map((line) => this.#sub(line)), what, COMMAND_MS);
  }

  async #capture(text: string, stdout: string, at: string): Promise<void> {
    const lines = stdout.trim().split("\n");
    if (/\bstreamgate token\b/.test(text)) this.#token = lines.at(-1);
    if (/\bstreamgate keys create\b/.test(text)) {
      const [key, entry] = lines;
      if (!this.#configFile) throw new ReadmeFailure(`${at}: a key is created, but the section has no configuration to add it to`);
      this.#env.STREAMGATE_API_KEY = key;
      const config = JSON.parse(await readFile(this.#configFile, "utf8")) as { auth?: { apiKeys?: unknown[] } };
      config.auth = { ...config.auth, apiKeys: [...(config.auth?.apiKeys ?? []), JSON.parse(entry ?? "")] };
      await writeFile(this.#configFile, JSON.stringify(config, null, 2));
      // A configuration is read at start: the next block that needs the gateway starts it anew.
      await this.#stopGateway();
    }
    const answer = parsedObject(stdout);
    if (answer?.url === this.addresses.webhookReceiver && typeof answer.secret === "string") {
      this.#webhooks.push({ secret: answer.secret, stream: String(answer.stream), id: String(answer.id) });
    }
  }

  async #program(block: Block, runtime: "python" | "node", expected: string[] | undefined): Promise<void> {
    if (addressesGateway(block.text)) await this.#ensureGateway();
    if (runtime === "python") {
      const file = join(this.tmp, `readme-${block.line}.py`);
      await writeFile(file, this.#sub(block.text));
      await this.#watch(startGroup(PYTHON, [file], this.#options()), expected, where(block));
      return;
    }
    // In the reader's directory, so that its relative imports resolve; with the imports of the
    // section's earlier blocks it builds on ("the client above").
    const file = join(this.#cwd, `readme-${block.line}.${block.lang.startsWith("t") ? "ts" : "mjs"}`);
    await writeFile(file, [...this.#earlierImports(block), this.#sub(block.text)].join("\n"));
    await this.#watch(startGroup("npx", ["tsx", file], this.#options()), expected, where(block));
  }

  #earlierImports(block: Block): string[] {
    const earlier = this.plan.section.blocks.filter((b) => b.line < block.line && /^(?:ts|js|typescript|javascript)$/.test(b.lang));
    const imports = new Set(earlier.flatMap((b) => b.text.match(NODE_IMPORT) ?? []));
    return [...imports].filter((line) => !block.text.includes(line));
  }

  async #appendFile(block: Block, path: string): Promise<void> {
    const file = join(this.#cwd, path);
    const before = existsSync(file) ? await readFile(file, "utf8") : "";
    const separator = before === "" ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    await appendFile(file, `${separator}${this.#sub(block.text)}\n`);
  }

  async #excerpt(block: Block, path: string): Promise<void> {
    const file = await readFile(join(this.#cwd, path), "utf8");
    if (!withoutCommentsAndSpace(file).includes(withoutCommentsAndSpace(block.text))) {
      throw new ReadmeFailure(`${where(block)} is not part of ${path} (comments and whitespace aside)`);
    }
  }

  async #config(block: Block): Promise<void> {
    const text = this.#sub(block.text);
    JSON.parse(text);
    this.#configFile = join(this.tmp, "streamgate.config.json");
    await writeFile(this.#configFile, text);
    this.#env.STREAMGATE_CONFIG = this.#configFile;
    await runToEnd("npx", ["streamgate", "config", "check", this.#configFile], this.#options(), COMMAND_MS);
  }

  async #cleanUp(): Promise<void> {
    const results = await Promise.allSettled([...this.#pages.map((page) => page.close()), this.#stopGateway(), this.receiver.close()]);
    await Promise.all(this.#dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) throw new AggregateError(failed.map((r) => r.reason), "cleaning up a README section failed");
  }
}

/** For excerpts: without `//` comments (not `://`) and without any whitespace. */
function withoutCommentsAndSpace(text: string): string {
  return text.replace(/(^|[^:])\/\/.*$/gm, "$1").replace(/\s+/g, "");
}
