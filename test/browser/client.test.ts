/**
 * The typed client (clients/src) in a real browser: Debian's chromium, driven by playwright-core.
 *
 * The page entry (page/main.ts) is bundled here with esbuild for platform "browser"; that the
 * bundle builds at all is the proof the client needs no Node builtin. The page is served from
 * its own loopback server, so every request it makes to the gateway is cross-origin (CORS).
 *
 * For each protocol (ws, sse, poll) the page subscribes to `orders` from an offset and records
 * what the typed iterator yields: offset, id, key, type and fields read after narrowing on
 * event.type (int64 values through bigint toString(), Timestamp nanoseconds). Events are published
 * before it subscribes, live, while it is cut off, and after it is back; on sse by the page's own
 * client (publish via "http" and via "ws"), on ws and poll over HTTP from Node. Then the gateway
 * destroys every socket it has (upgraded WebSockets included) and the page must come back by
 * itself (onReconnect) and read every offset exactly once, in order, with the right data.
 *
 * The page reaches the gateway through a small TCP relay (the "gate") so that the outage lasts
 * as long as the test needs, whatever the client's backoff jitter: while it is down, the page's
 * new connections are held (ws, sse) or refused (poll), and the events published meanwhile are
 * stored before the page can reconnect, so they reach it only through the resumed read.
 * Poll is refused rather than held because chromium by itself resends a request cut off on a
 * reused keep-alive connection before any response byte (the pending long poll): held, that
 * resend would hide the outage from the client; refused, the client sees it. Refusing ws or sse
 * twice would make the client fall back to another protocol, which is not what is tested here.
 */
import type { IncomingMessage } from "node:http";
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildFailure, type Message } from "esbuild";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Protocol, Published } from "../../clients/src/index.js";
import { ClientFrame } from "../../protocol/generated/streamgate/v1/frames.js";
import { launchChromium, startPageServer, type PageServer } from "../support/browser.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { expectedFields, jsonOf, KINDS, typeOf, type EventSpec } from "./orders-fixture.js";
import type { PageState, SgWindow } from "./page/main.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
const ENTRY = resolve(here, "page/main.ts");
const WAIT_MS = 10_000;

let gw: TestGateway;
let gate: Gate;
let browser: Browser | undefined;
let pageServer: PageServer | undefined;
let pageOrigin: string;
let bundle: { js: string; ms: number; inputs: string[]; warnings: Message[] } | undefined;
let bundleErrors: string[] = [];
/** Every TCP socket the gateway accepted and still has, upgraded WebSockets included. */
const gatewaySockets = new Set<Socket>();
/** Every request (and WebSocket upgrade) the gateway saw, observed, not intercepted. */
const gatewayRequests: { at: number; method: string; url: string; origin: string | undefined; acrh: string | undefined }[] = [];

beforeAll(async () => {
  const started = Date.now();
  try {
    const result = await build({
      entryPoints: [ENTRY],
      absWorkingDir: repoRoot,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "chrome120",
      write: false,
      metafile: true,
      sourcemap: "inline",
      logLevel: "silent",
    });
    bundle = {
      js: result.outputFiles[0]!.text,
      ms: Date.now() - started,
      inputs: Object.keys(result.metafile.inputs),
      warnings: result.warnings,
    };
  } catch (err) {
    const failure = err as BuildFailure;
    bundleErrors = failure.errors?.map(
      (e) => `${e.location?.file ?? "?"}:${e.location?.line ?? "?"}: ${e.text}${e.notes.map((note) => ` (${note.text})`).join("")}`,
    ) ?? [String(err)];
  }

  gw = await startTestGateway();
  const server = gw.gateway.app.server;
  server.on("connection", (socket: Socket) => {
    gatewaySockets.add(socket);
    socket.once("close", () => gatewaySockets.delete(socket));
  });
  const observe = (req: IncomingMessage) =>
    gatewayRequests.push({
      at: Date.now(),
      method: req.headers.upgrade ? "UPGRADE" : (req.method ?? ""),
      url: req.url ?? "",
      origin: req.headers.origin,
      acrh: req.headers["access-control-request-headers"] as string | undefined,
    });
  server.on("request", observe);
  server.on("upgrade", observe);
  gate = await startGate((server.address() as AddressInfo).port);

  pageServer = await startPageServer((url) => {
    if (url.pathname === "/") {
      return {
        body:
          `<!doctype html><html><head><meta charset="utf-8"><title>streamgate typed client</title>` +
          `<script type="module" src="/main.js"></script></head><body></body></html>`,
      };
    }
    if (url.pathname === "/main.js" && bundle) return { body: bundle.js, contentType: "text/javascript; charset=utf-8" };
    return undefined;
  });
  pageOrigin = pageServer.origin;

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await pageServer?.close();
  await gate?.close();
  await gw?.close();
});

/** A TCP relay from the page to the gateway that can hold or refuse new connections. */
interface Gate {
  /** The gateway's address as the page sees it. */
  url: string;
  /** open: relay; hold: accept, relay nothing until open again; refuse: close at once. */
  set(mode: "open" | "hold" | "refuse"): void;
  held(): number;
  refused(): number;
  close(): Promise<void>;
}

async function startGate(gatewayPort: number): Promise<Gate> {
  let mode: "open" | "hold" | "refuse" = "open";
  let refused = 0;
  const waiting: Socket[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const relay = (down: Socket) => {
    if (down.destroyed) return;
    const up = connect(gatewayPort, "127.0.0.1");
    track(up);
    down.pipe(up);
    up.pipe(down);
    // The gateway cutting its side cuts the page's: the page sees what a direct drop looks like.
    const cut = () => {
      down.destroy();
      up.destroy();
    };
    up.once("close", cut);
    down.once("close", cut);
  };
  const server: TcpServer = createTcpServer((down) => {
    track(down);
    if (mode === "refuse") {
      refused++;
      down.destroy();
    } else if (mode === "hold") waiting.push(down);
    else relay(down);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set(next) {
      mode = next;
      if (next === "open") for (const down of waiting.splice(0)) relay(down);
    },
    held: () => waiting.filter((s) => !s.destroyed).length,
    refused: () => refused,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Cuts every connection the gateway has, the way a crashing proxy would. */
function dropEveryConnection(): number {
  const count = gatewaySockets.size;
  gw.gateway.app.server.closeAllConnections();
  // Upgraded sockets are no longer the HTTP server's to close.
  for (const socket of gatewaySockets) socket.destroy();
  return count;
}

/** Publishes from Node, as canonical proto3 JSON over HTTP, straight to the gateway. */
async function publishFromNode(spec: EventSpec): Promise<Published> {
  const res = await fetch(`${gw.url}/v1/streams/orders/events`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `evt-${spec.orderId}` },
    body: JSON.stringify(jsonOf(spec)),
  });
  const body = (await res.json()) as Published;
  if (res.status !== 201) throw new Error(`publish ${spec.orderId}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const pageState = (page: Page): Promise<PageState> => page.evaluate(() => (window as unknown as SgWindow).sg.state);

async function waitForPage(page: Page, what: string, condition: (s: PageState) => boolean, diagnostics: () => string): Promise<PageState> {
  const deadline = Date.now() + WAIT_MS;
  let s = await pageState(page);
  while (!condition(s)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${WAIT_MS} ms waiting for ${what}: page has offsets [${s.rows.map((r) => r.offset).join(",")}], ` +
          `reconnects ${JSON.stringify(s.reconnects)}, ended ${s.ended}, gaps ${JSON.stringify(s.gaps)}, ` +
          `unreadable ${JSON.stringify(s.unreadable)}, published ${JSON.stringify(s.published)}; ${diagnostics()}`,
      );
    }
    await new Promise((done) => setTimeout(done, 20));
    s = await pageState(page);
  }
  return s;
}

describe("the typed client, bundled for the browser", () => {
  it("bundles with esbuild for platform browser: no Node builtin anywhere", () => {
    expect(bundleErrors).toEqual([]);
    expect(bundle).toBeDefined();
    const { js, inputs, warnings, ms } = bundle!;
    expect(warnings.map((w) => w.text)).toEqual([]);
    // Everything was bundled from files: no node:* (nor any other external) left to import.
    expect(inputs.filter((i) => i.startsWith("node:") || !/\.[cm]?[jt]s$/.test(i))).toEqual([]);
    expect(inputs).toEqual(expect.arrayContaining(["clients/src/client.ts", "clients/src/ws.ts", "clients/src/sse.ts", "clients/src/poll.ts"]));
    expect(js).not.toMatch(/^\s*import\s|\bimport\(\s*["']|\brequire\(\s*["']/m);
    console.log(`[browser client] bundle: ${(js.length / 1024).toFixed(0)} KiB with inline source map, ${inputs.length} inputs, ${ms} ms`);
  });
});

/** Who publishes, per protocol: the page's own client (sse), or Node over HTTP (ws, poll). */
const PAGE_PUBLISHES: Record<Protocol, boolean> = { ws: false, sse: true, poll: false };

describe.each<Protocol>(["ws", "sse", "poll"])("chromium, typed client over %s", (protocol) => {
  it("yields typed events (int64, nanoseconds) and resumes without loss or repeats after the gateway drops every socket", async () => {
    expect(bundle, `the page bundle failed: ${bundleErrors.join("; ")}`).toBeDefined();
    const started = Date.now();
    const pagePublishes = PAGE_PUBLISHES[protocol];
    let context: BrowserContext | undefined;
    let page: Page | undefined;
    const consoleLines: string[] = [];
    /** Subscribe frames the page sent on WebSockets, decoded. */
    const subscribeFroms: string[] = [];
    /** offset → the spec published there. */
    const published = new Map<number, EventSpec>();
    const vias: string[] = [];
    /** orderId → spec of the page's publishes made during the outage, recorded when they settle. */
    const pendingSpecs = new Map<string, EventSpec>();
    let n = 0;
    const nextSpec = (phase: string): EventSpec => {
      const i = n++;
      return { kind: KINDS[i % KINDS.length]!, orderId: `${protocol}-${phase}-${i}`, n: i + (protocol === "ws" ? 0 : protocol === "sse" ? 100 : 200) };
    };
    const record = (spec: EventSpec, result: Published, via: string) => {
      expect(result.duplicate, `${spec.orderId} was stored before`).toBe(false);
      expect(result.id).toBe(`evt-${spec.orderId}`);
      expect(published.has(result.offset), `offset ${result.offset} given twice`).toBe(false);
      published.set(result.offset, spec);
      vias.push(via);
    };
    const publishOne = async (phase: string, via: "node" | "http" | "ws") => {
      const spec = nextSpec(phase);
      const result =
        via === "node"
          ? await publishFromNode(spec)
          : await page!.evaluate(([baseUrl, s, v]) => (window as unknown as SgWindow).sg.publish(baseUrl, s, v), [gate.url, spec, via] as const);
      record(spec, result, via);
    };
    const publishers = (): ("node" | "http" | "ws")[] => (pagePublishes ? ["http", "ws", "http"] : ["node", "node", "node"]);
    const diagnostics = () =>
      `gate held ${gate.held()}, refused ${gate.refused()}; gateway saw ${JSON.stringify(
        gatewayRequests.filter((r) => r.at >= started).map((r) => `${r.method} ${r.url} ${r.origin ?? "-"}`),
      )}; ws subscribes ${JSON.stringify(subscribeFroms)}; console: ${consoleLines.join(" | ")}`;

    try {
      context = await browser!.newContext();
      page = await context.newPage();
      page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
      page.on("websocket", (ws) =>
        ws.on("framesent", ({ payload }) => {
          if (typeof payload === "string") return;
          const op = ClientFrame.decode(new Uint8Array(payload)).op;
          if (op?.$case === "subscribe") {
            const position = op.value.position;
            subscribeFroms.push(position?.$case === "from" ? String(position.value) : JSON.stringify(position));
          }
        }),
      );
      await page.goto(pageOrigin + "/");
      await page.waitForFunction(() => (window as unknown as Partial<SgWindow>).sg !== undefined, undefined, { timeout: WAIT_MS });

      // Stored before the page reads: replayed from an offset.
      for (const via of publishers()) await publishOne("before", via);
      const start = Math.min(...published.keys());
      await page.evaluate(
        ([baseUrl, p, from]) => (window as unknown as SgWindow).sg.subscribe({ baseUrl, protocol: p, from }),
        [gate.url, protocol, start] as const,
      );
      await waitForPage(page, "the events stored before", (s) => s.rows.length >= 3, diagnostics);

      // Live.
      for (const via of publishers()) await publishOne("live", via);
      let s = await waitForPage(page, "the live events", (st) => st.rows.length >= published.size, diagnostics);
      const lastBefore = s.rows[s.rows.length - 1]!.offset;
      const rowsBefore = s.rows.length;
      expect(s.reconnects).toEqual([]);

      // The outage: the page's new connections wait at the gate; every gateway socket is destroyed.
      const refusedBefore = gate.refused();
      gate.set(protocol === "poll" ? "refuse" : "hold");
      const droppedAt = Date.now();
      const dropped = dropEveryConnection();
      s = await waitForPage(page, "the client to notice the drop (onReconnect)", (st) => st.reconnects.length >= 1, diagnostics);
      const noticedMs = s.reconnects[0]!.at - droppedAt;
      // Stored while the page is cut off.
      for (let i = 0; i < 4; i++) await publishOne("down", "node");
      // The client's next attempt (after its backoff) reaches the gate and waits there, or is refused.
      const attemptsAtGate = () => gate.held() + gate.refused() - refusedBefore;
      const attemptDeadline = Date.now() + WAIT_MS;
      while (attemptsAtGate() === 0) {
        if (Date.now() > attemptDeadline) throw new Error(`the page did not try to reconnect within ${WAIT_MS} ms; ${diagnostics()}`);
        await new Promise((done) => setTimeout(done, 10));
      }
      if (pagePublishes) {
        // The page publishes too: these wait at the gate until the gateway is reachable again.
        for (const via of ["http", "ws"] as const) {
          const spec = nextSpec("down-page");
          await page.evaluate(([baseUrl, sp, v]) => (window as unknown as SgWindow).sg.publishInBackground(baseUrl, sp, v), [
            gate.url,
            spec,
            via,
          ] as const);
          pendingSpecs.set(spec.orderId, spec);
        }
      }
      await new Promise((done) => setTimeout(done, 200));
      s = await pageState(page);
      expect(s.rows.length, "the page read something while it was cut off").toBe(rowsBefore);
      expect(s.published, "a publish of the page settled while the gateway was unreachable").toEqual([]);
      const held = gate.held();
      const refused = gate.refused() - refusedBefore;

      // Back: the page resumes after lastBefore and gets what was stored meanwhile.
      const reopenedAt = Date.now();
      gate.set("open");
      if (pagePublishes) {
        s = await waitForPage(page, "the page's publishes made during the outage", (st) => st.published.length >= 2, diagnostics);
        for (const p of s.published) {
          expect(p.error, `publish via ${p.via} of ${p.orderId}`).toBeUndefined();
          record(pendingSpecs.get(p.orderId)!, p.result!, `${p.via} (during outage)`);
        }
      }
      s = await waitForPage(page, "every event stored during the outage", (st) => st.rows.length >= published.size, diagnostics);
      const resumedMs = Date.now() - reopenedAt;

      // Live again, on the new connection (the page's publishing socket is a new one too).
      for (const via of publishers()) await publishOne("after", via);
      await waitForPage(page, "the events after the reconnect", (st) => st.rows.length >= published.size, diagnostics);

      // Anything repeated would come now.
      await new Promise((done) => setTimeout(done, 400));
      s = await pageState(page);

      const offsets = [...published.keys()].sort((a, b) => a - b);
      expect(offsets, "offsets published are not contiguous: something else wrote to orders").toEqual(
        Array.from({ length: offsets.length }, (_, i) => start + i),
      );
      expect(s.rows.map((r) => r.offset)).toEqual(offsets);
      for (const row of s.rows) {
        const spec = published.get(row.offset)!;
        expect(row, `offset ${row.offset}`).toEqual({
          offset: row.offset,
          id: `evt-${spec.orderId}`,
          key: spec.orderId,
          type: typeOf(spec.kind),
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          fields: expectedFields(spec),
        });
        expect(Math.abs(Date.parse(row.time) - Date.now())).toBeLessThan(60_000);
      }
      expect(s.ended).toBeNull();
      expect(s.gaps).toEqual([]);
      expect(s.unreadable).toEqual([]);
      // A reconnect happened, on the protocol asked for (no fallback).
      expect(s.reconnects.length).toBeGreaterThanOrEqual(1);
      expect(s.reconnects.map((r) => r.protocol)).toEqual(s.reconnects.map(() => protocol));

      // Where each read started: the offset asked for, then right after the last event seen.
      const mine = gatewayRequests.filter((r) => r.at >= started);
      if (protocol === "ws") {
        expect(subscribeFroms[0]).toBe(String(start));
        expect(subscribeFroms.slice(1)).toEqual(subscribeFroms.slice(1).map(() => String(lastBefore + 1)));
        expect(subscribeFroms.length).toBeGreaterThanOrEqual(2);
      } else {
        const reads = mine.filter((r) => r.method === "GET" && r.url.startsWith(`/v1/streams/orders/${protocol}?`));
        const fromOf = (url: string) => new URL(url, "http://x").searchParams.get("from");
        expect(fromOf(reads[0]!.url)).toBe(String(start));
        const afterDrop = reads.filter((r) => r.at > droppedAt);
        expect(afterDrop.length).toBeGreaterThanOrEqual(1);
        expect(fromOf(afterDrop[0]!.url)).toBe(String(lastBefore + 1));
      }
      // Cross-origin for real: every request of the page said where it came from.
      const fromPage = mine.filter((r) => r.url.includes(`/${protocol}`) || r.method === "OPTIONS" || r.method === "UPGRADE");
      expect(fromPage.length).toBeGreaterThan(0);
      expect(fromPage.filter((r) => r.origin !== pageOrigin)).toEqual([]);
      if (pagePublishes) {
        const posts = mine.filter((r) => r.method === "POST" && r.origin === pageOrigin);
        expect(posts.length).toBeGreaterThanOrEqual(vias.filter((v) => v.startsWith("http")).length);
        // application/x-protobuf and Streamgate-Type are not CORS-safelisted: a preflight first.
        const preflights = mine.filter((r) => r.method === "OPTIONS" && r.url === "/v1/streams/orders/events");
        expect(preflights.length).toBeGreaterThanOrEqual(1);
        expect(preflights[0]!.acrh).toMatch(/streamgate-type/);
      }

      console.log(
        `[browser client ${protocol}] ${s.rows.length} events (${vias.join(", ")}); dropped ${dropped} gateway sockets, ` +
          `client noticed after ${noticedMs} ms, ${held} connections held / ${refused} refused at the gate, ` +
          `resumed ${resumedMs} ms after the gateway was reachable again; onReconnect ${JSON.stringify(
            s.reconnects.map((r) => `${r.protocol}#${r.attempt}: ${r.reason}`),
          )}; test body ${Date.now() - started} ms`,
      );
    } finally {
      gate.set("open");
      await page?.evaluate(() => (window as unknown as SgWindow).sg?.stop()).catch(() => undefined);
      await context?.close();
    }
  });
});
