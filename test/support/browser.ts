/**
 * A real browser for the browser suites: Debian's chromium, driven by playwright-core, and a
 * loopback server for the test pages (another port is another origin, so every request a page
 * makes to the gateway is cross-origin).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";

/** Headless chromium, with nothing of its own on the network (no QUIC, no background requests). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** What a page server answers a GET with: a body and its Content-Type (HTML unless told). */
export interface PageResponse {
  body: string;
  contentType?: string;
}

export interface PageServer {
  server: Server;
  /** http://127.0.0.1:<port> */
  origin: string;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server for test pages. `respond` gets each request's URL (path and query) and
 * answers with a page, or undefined for `missing` (an empty answer with that status, 404 unless told).
 */
export async function startPageServer(respond: (url: URL) => PageResponse | undefined, missing = 404): Promise<PageServer> {
  const server = createServer((req, res) => {
    const page = respond(new URL(req.url ?? "/", "http://localhost"));
    if (!page) return void res.writeHead(missing).end();
    res.writeHead(200, { "content-type": page.contentType ?? "text/html; charset=utf-8" }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
