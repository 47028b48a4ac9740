import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import {
  findNatsServer,
  NatsServerStartError,
  startNatsServer,
  type RunningNatsServer,
} from "../../src/backbone/nats-server.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { isGone, waitUntilGone } from "../support/process.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const parentFixture = fileURLToPath(new URL("../fixtures/embedded-nats-parent.ts", import.meta.url));

const natsDir = dirname(await findNatsServer({ install: false }));
const setprivStillReachable = [natsDir, "/usr/sbin", "/usr/local/bin"].some((dir) =>
  existsSync(join(dir, "setpriv")),
);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempStoreDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-nats-server-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startServer(options: { port?: number } = {}): Promise<RunningNatsServer> {
  const server = await startNatsServer({ storeDir: await tempStoreDir(), ...options });
  cleanups.push(() => server.stop());
  return server;
}

async function startTestNatsForTest(): Promise<TestNats> {
  const nats = await startTestNats();
  cleanups.push(() => nats.stop());
  return nats;
}

function commandName(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
}

type EmbeddingParent = {
  parent: ChildProcess;
  natsPid: number;
  exited: Promise<number | null>;
  stderr: () => string;
};

async function spawnEmbeddingParent(mode: "idle" | "crash", env = process.env): Promise<EmbeddingParent> {
  // process.execPath rather than npx, so the pid we kill is the node process that owns nats-server.
  const parent = spawn(process.execPath, ["--import", "tsx", parentFixture, mode], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  parent.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => parent.once("exit", (code) => resolve(code)));
  cleanups.push(async () => {
    parent.kill("SIGKILL");
    await exited;
  });

  const firstLine = await new Promise<string>((resolve, reject) => {
    if (!parent.stdout) throw new Error("fixture spawned without stdout");
    createInterface({ input: parent.stdout }).once("line", resolve);
    parent.once("exit", (code) => reject(new Error(`fixture exited (${code}) before reporting:\n${stderr}`)));
  });
  const report = JSON.parse(firstLine) as { pid: number; storeDir: string };
  cleanups.push(async () => {
    if (!isGone(report.pid)) process.kill(report.pid, "SIGKILL");
    await waitUntilGone(report.pid, 5_000);
    await rm(report.storeDir, { recursive: true, force: true });
  });
  return { parent, natsPid: report.pid, exited, stderr: () => stderr };
}

describe("startNatsServer", () => {
  it("runs a JetStream-enabled nats-server and stops it", async () => {
    const server = await startServer();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(commandName(server.pid)).toBe("nats-server");

    const nc = await connect({ servers: server.url });
    const account = await (await jetstreamManager(nc)).getAccountInfo();
    expect(account.streams).toBe(0);
    await nc.close();

    await server.stop();
    expect(isGone(server.pid)).toBe(true);
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it("fails with the server's own log when the port is taken", async () => {
    const first = await startServer();
    const attempt = startNatsServer({ storeDir: await tempStoreDir(), port: first.port });
    await expect(attempt).rejects.toBeInstanceOf(NatsServerStartError);
    await expect(attempt).rejects.toThrow(/address already in use/);
  });
});

describe("startTestNats", () => {
  it("keeps JetStream data across restart on the same port", async () => {
    const nats = await startTestNatsForTest();
    const before = await connect({ servers: nats.url });
    await (await jetstreamManager(before)).streams.add({ name: "RESTART", subjects: ["restart.>"] });
    await jetstream(before).publish("restart.one", "kept");
    await before.close();

    await nats.restart();

    const after = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(after)).streams.info("RESTART");
    expect(info.state.messages).toBe(1);
    await after.close();
  });
});

describe("no orphaned nats-server", () => {
  it("dies when the parent is SIGKILLed", async () => {
    const { parent, natsPid, exited } = await spawnEmbeddingParent("idle");
    expect(commandName(natsPid)).toBe("nats-server");
    parent.kill("SIGKILL");
    await exited;
    expect(await waitUntilGone(natsPid, 5_000)).toBe(true);
  });

  it("dies when the parent is SIGTERMed", async () => {
    const { parent, natsPid, exited } = await spawnEmbeddingParent("idle");
    parent.kill("SIGTERM");
    await exited;
    expect(await waitUntilGone(natsPid, 5_000)).toBe(true);
  });

  it("dies when the parent crashes with an uncaught exception", async () => {
    const { natsPid, exited, stderr } = await spawnEmbeddingParent("crash");
    expect(await exited).toBe(1);
    expect(stderr()).toContain("deliberate crash");
    expect(await waitUntilGone(natsPid, 5_000)).toBe(true);
  });

  // With PATH narrowed to nats-server's own directory setpriv is not found, so only the
  // process "exit" hook stands between a crash and an orphan.
  it.skipIf(setprivStillReachable)("dies on a crash even without setpriv", async () => {
    const { natsPid, exited } = await spawnEmbeddingParent("crash", { ...process.env, PATH: natsDir });
    expect(await exited).toBe(1);
    expect(await waitUntilGone(natsPid, 5_000)).toBe(true);
  });
});

describe("findNatsServer", () => {
  it("finds the installed binary", async () => {
    const binary = await findNatsServer({ install: false });
    expect(isAbsolute(binary)).toBe(true);
    const { stdout } = await promisify(execFile)(binary, ["--version"]);
    expect(stdout).toMatch(/^nats-server: v\d+\.\d+\.\d+/);
  });
});
