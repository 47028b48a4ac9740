/**
 * README blocks marked `browser`, in Debian's chromium (playwright-core): each is bundled with
 * esbuild for the browser from the working copy (so its imports resolve as a reader's bundler
 * resolves them) and loaded as a module by a page on the test's own origin. The page's own
 * functions the block calls (names starting with `show`, which the README leaves to the page)
 * are recorders; the block passes when each was called and the page reported no error.
 */
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { launchChromium, startPageServer, type PageResponse, type PageServer } from "../support/browser.js";
import { until } from "../support/wait.js";
import type { Block } from "./readme-blocks.js";

const WAIT_MS = 20_000;

export interface OpenPage {
  /** Waits until every page function the block calls was called; throws with what the page reported. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface PageOptions {
  /** Where its imports resolve from. */
  cwd: string;
  /** The section's gateway, http://127.0.0.1:<port>. */
  gateway: string;
  /** A token the page's backend set as the HttpOnly streamgate_token cookie for the gateway's host. */
  cookie?: string;
}

/** The functions the README leaves to the page: called, never defined, in the block. */
export function pageFunctions(code: string): string[] {
  const called = new Set([...code.matchAll(/\b(show\w*)\s*\(/g)].map((m) => m[1]!));
  return [...called].filter((name) => !new RegExp(`(?:function|const|let|var)\\s+${name}\\b`).test(code));
}

export class BrowserPages {
  #browser: Promise<Browser> | undefined;

  private constructor(
    private readonly server: PageServer,
    private readonly routes: Map<string, PageResponse>,
  ) {}

  /** The page server; chromium starts with the first page. */
  static async start(): Promise<BrowserPages> {
    const routes = new Map<string, PageResponse>();
    // Unknown paths (the favicon) get an empty 204, so the console shows only the block's errors.
    const server = await startPageServer((url) => routes.get(url.pathname), 204);
    return new BrowserPages(server, routes);
  }

  get origin(): string {
    return this.server.origin;
  }

  async open(block: Block, code: string, options: PageOptions): Promise<OpenPage> {
    const js = await bundle(block, code, options.cwd);
    const name = `/readme-${block.line}`;
    const functions = pageFunctions(code);
    this.routes.set(`${name}.js`, { body: js, contentType: "text/javascript; charset=utf-8" });
    this.routes.set(`${name}.html`, { body: pageHtml(block, functions, `${name}.js`) });
    this.#browser ??= launchChromium();
    const context = await (await this.#browser).newContext();
    if (options.cookie !== undefined) {
      await context.addCookies([{ name: "streamgate_token", value: options.cookie, url: options.gateway, httpOnly: true, sameSite: "Lax" }]);
    }
    const page = await context.newPage();
    const watch = watchPage(page, options.gateway);
    await page.goto(this.origin + `${name}.html`);
    await watch.settled(block);
    return {
      check: async () => {
        await page
          .waitForFunction((names) => names.every((n) => window.__readme.calls.some((c) => c.name === n)), functions, { timeout: WAIT_MS })
          .catch(async (err: unknown) => {
            const calls = await page.evaluate(() => window.__readme.calls);
            throw new Error(`README.md:${block.line}: the page did not call ${functions.join(", ")} (calls: ${JSON.stringify(calls)}; errors: ${watch.errors.join("; ")})`, { cause: err });
          });
        if (watch.errors.length > 0) throw new Error(`README.md:${block.line}: the page reported: ${watch.errors.join("; ")}`);
      },
      close: () => context.close(),
    };
  }

  async close(): Promise<void> {
    const browser = this.#browser;
    this.#browser = undefined;
    await Promise.all([browser?.then((b) => b.close()), this.server.close()]);
  }
}

declare global {
  interface Window {
    __readme: { calls: { name: string; args: string }[] };
  }
}

async function bundle(block: Block, code: string, cwd: string): Promise<string> {
  const result = await build({
    stdin: { contents: code, resolveDir: cwd, sourcefile: `README.md:${block.line}`, loader: block.lang.startsWith("t") ? "ts" : "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

function pageHtml(block: Block, functions: string[], script: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>README.md:${block.line}</title></head><body>
<script>
  window.__readme = { calls: [] };
  const record = (name) => (...args) => {
    let text;
    try { text = JSON.stringify(args); } catch { text = String(args); }
    window.__readme.calls.push({ name, args: text });
  };
  for (const name of ${JSON.stringify(functions)}) window[name] = record(name);
</script>
<script type="module" src="${script}"></script>
</body></html>`;
}

/**
 * What the page does on the network and reports: settled() waits until it has reached the
 * gateway and every request it made there has its response under way, and every WebSocket its
 * first frame (a reader that has its response or its `subscribed` is placed, so events
 * published from then on reach it).
 */
function watchPage(page: Page, gateway: string) {
  const errors: string[] = [];
  const pending = new Set<string>();
  let seen = 0;
  const wsGateway = gateway.replace(/^http/, "ws");
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("request", (request) => {
    if (!request.url().startsWith(gateway)) return;
    seen++;
    const key = `${request.method()} ${request.url()}`;
    pending.add(key);
    const done = () => pending.delete(key);
    void request.response().then(done, done);
  });
  page.on("websocket", (ws) => {
    if (!ws.url().startsWith(wsGateway)) return;
    seen++;
    const key = `WebSocket ${ws.url()}`;
    pending.add(key);
    const done = () => pending.delete(key);
    ws.once("framereceived", done);
    ws.once("close", done);
  });
  return {
    errors,
    settled: (block: Block) =>
      until(
        () => errors.length > 0 || (seen > 0 && pending.size === 0),
        `README.md:${block.line}'s page to reach the gateway`,
        WAIT_MS,
        () => `pending: ${[...pending].join(", ") || "none"}; errors: ${errors.join("; ") || "none"}`,
      ),
  };
}
