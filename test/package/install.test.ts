/**
 * streamgate as a user gets it: the three packages packed from this repository, installed into
 * a fresh project outside it, then `streamgate init`, `npm run codegen`, `npm start`, a typed
 * program (compiled by the project's own tsc) that publishes and reads, and SIGTERM to npm.
 * Nothing here touches this repository's tree, and the project sees only the packed files.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/gateway-process.js";
import { waitUntilGone } from "../support/process.js";
import { until } from "../support/wait.js";

const run = promisify(execFile);
const repo = process.cwd();
const TYPESCRIPT = (JSON.parse(await readFile(join(repo, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies.typescript!;

let dir: string;
let project: string;
/** The project's environment: none of this repository's settings (such as its source condition). */
let env: NodeJS.ProcessEnv;

async function inProject(command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  try {
    return await run(command, args, { cwd: project, env: { ...env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string; code?: number };
    throw new Error(`${command} ${args.join(" ")} exited ${failed.code}:\n${failed.stdout}\n${failed.stderr}`);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-install-"));
  project = join(dir, "my-events");
  env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "NODE_OPTIONS" && !name.startsWith("npm_")));
  // dist/ is built by `npm test` before vitest; packing must not rebuild it under other tests.
  if (!existsSync(join(repo, "dist", "cli", "main.js"))) await run("npm", ["run", "build"], { cwd: repo });
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir, "--workspaces", "--include-workspace-root"], { cwd: repo });
  const tarballs = (JSON.parse(packed.stdout) as { filename: string }[]).map((p) => join(dir, p.filename.replace(/^@streamgate\//, "streamgate-")));
  expect(tarballs).toHaveLength(3);
  await run("mkdir", [project]);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "my-events", private: true, type: "module" }));
  await inProject("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs, `typescript@${TYPESCRIPT}`]);
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a fresh project with the packed packages installed", () => {
  it("runs `npx streamgate --help` and `--version`", async () => {
    const help = await inProject("npx", ["streamgate", "--help"]);
    expect(help.stdout).toMatch(/Usage: streamgate/);
    for (const command of ["serve", "init", "codegen", "config", "token", "keys"]) expect(help.stdout).toContain(command);
    const version = await inProject("npx", ["streamgate", "codegen", "--version"]);
    expect(version.stdout.trim()).toBe("0.1.0");
    // A usage mistake exits 2, with the reason on stderr.
    const wrong = await inProject("npx", ["streamgate", "serve", "--nope"]).catch((err: Error) => err);
    expect(String(wrong)).toMatch(/exited 2[\s\S]*unknown option '--nope'/);
  });

  it("scaffolds, generates typed code for its own schema, serves it, publishes and reads it, and stops on SIGTERM", { timeout: 240_000 }, async () => {
    const init = await inProject("npx", ["streamgate", "init"]);
    expect(init.stdout).toContain("created proto/app/v1/greetings.proto");
    await inProject("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"]);
    await inProject("npm", ["run", "codegen"]);
    expect(existsSync(join(project, "generated", "streams", "greetings.ts"))).toBe(true);
    expect(existsSync(join(project, "generated", "descriptors.binpb"))).toBe(true);
    await inProject("npx", ["streamgate", "codegen", "--check"]);
    const index = join(project, "generated", "streams", "index.ts");
    const generated = await readFile(index, "utf8");
    await writeFile(index, `${generated}// edited by hand\n`);
    const stale = await inProject("npx", ["streamgate", "codegen", "--check"]).catch((err: Error) => err);
    expect(String(stale)).toMatch(/exited 1[\s\S]*changed: generated\/streams\/index\.ts/);
    await writeFile(index, generated);
    await inProject("npx", ["streamgate", "config", "check"]);

    // A program of the user's, type-checked as strictly as a careful project would.
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, exactOptionalPropertyTypes: true, lib: ["ES2022", "DOM"], types: [], skipLibCheck: true, outDir: "build" },
        include: ["app.ts", "globals.d.ts", "generated"],
      }),
    );
    await writeFile(
      join(project, "app.ts"),
      `import { createClient } from "@streamgate/client";
import { connectBackbone, createProducer } from "streamgate";
import { greetings } from "./generated/streams/index.js";

const [baseUrl, natsUrl] = [process.argv[2]!, process.argv[3]!];
const backbone = await connectBackbone(natsUrl);
const producer = createProducer(backbone.js, greetings);
const first = await producer.publish({ type: "app.v1.Greeted", data: { name: "ada", text: "hello from the producer" } });
await backbone.close();

const client = createClient({ baseUrl });
const second = await client.publish(greetings, { type: "app.v1.Greeted", data: { name: "grace", text: "hello over HTTP" } });
const read: unknown[] = [];
for (const protocol of ["ws", "sse", "poll"] as const) {
  const controller = new AbortController();
  const got: string[] = [];
  for await (const event of client.subscribe(greetings, { protocol, position: { from: first.offset }, signal: controller.signal })) {
    got.push(\`\${event.offset} \${event.type} \${event.key} \${event.data.text}\`);
    if (got.length === 2) controller.abort();
  }
  read.push({ protocol, got });
}
await client.close();
console.log(JSON.stringify({ first: first.offset, second: second.offset, read }));
`,
    );
    // Only what app.ts uses of Node, so the packages must type-check without @types/node.
    await writeFile(join(project, "globals.d.ts"), "declare var process: { argv: string[] };\n");
    await inProject("npx", ["tsc", "-p", "."]);

    const port = await freePort();
    const natsPort = await freePort();
    const server = spawn("npm", ["start"], { cwd: project, env: { ...env, PORT: String(port), STREAMGATE_NATS_PORT: String(natsPort) }, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    server.stdout.on("data", (d: Buffer) => (log += d));
    server.stderr.on("data", (d: Buffer) => (log += d));
    try {
      await until(() => log.includes("Server listening"), "the gateway listening", 60_000, () => log);
      const natsUrl = `nats://127.0.0.1:${natsPort}`;
      expect(log).toContain(`embedded nats-server (pid`);
      expect(log).toContain(`at ${natsUrl}`);
      const embeddedPid = Number(/embedded nats-server \(pid (\d+)\)/.exec(log)![1]);

      const app = await inProject("node", ["build/app.js", `http://127.0.0.1:${port}`, natsUrl]);
      const result = JSON.parse(app.stdout) as { first: number; second: number; read: { protocol: string; got: string[] }[] };
      expect(result.second).toBe(result.first + 1);
      const expected = [`${result.first} app.v1.Greeted ada hello from the producer`, `${result.second} app.v1.Greeted grace hello over HTTP`];
      expect(result.read).toEqual(["ws", "sse", "poll"].map((protocol) => ({ protocol, got: expected })));

      // Codegen again while it serves: the gateway says a restart is needed to serve it.
      await inProject("npm", ["run", "codegen"]);
      await until(() => log.includes("the descriptor set changed"), "the gateway to notice the new descriptor set", 20_000, () => log);

      // A second gateway on the same data dir is refused: one nats-server per JetStream store.
      const second = await inProject("npx", ["streamgate", "serve"], { PORT: String(await freePort()) }).catch((err: Error) => err);
      expect(String(second)).toMatch(/exited 1[\s\S]*another process \(pid \d+\) runs an embedded nats-server/);
      expect(String(second)).toContain(`NATS_URL=${natsUrl}`);

      // What a supervisor does: SIGTERM to the process it started, npm. npm passes it on and
      // ends by the same signal; the gateway shuts down cleanly, with nothing left behind.
      const gatewayPid = Number(/"pid":(\d+)/.exec(log)![1]);
      server.kill("SIGTERM");
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => server.once("exit", (c, s) => resolve([c, s])));
      expect(code === 0 || signal === "SIGTERM", `npm start ended with ${code} ${signal}`).toBe(true);
      expect(await waitUntilGone(gatewayPid, 15_000), "the gateway outlived npm start").toBe(true);
      expect(await waitUntilGone(embeddedPid, 10_000), "the embedded nats-server outlived npm start").toBe(true);
      // Released by the gateway's own shutdown, not left for the next start to take over.
      expect(existsSync(join(project, ".streamgate", "nats", "streamgate.lock"))).toBe(false);
      expect(log).toContain("shutting down");
    } finally {
      server.kill("SIGKILL");
    }
  });
});
