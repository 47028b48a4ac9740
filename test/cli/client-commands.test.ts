/**
 * The CLI's client commands (issue 11, item 4): streams list/info, publish, tail and webhooks,
 * run as a user runs them (a child process, test/support/cli-process.ts) against real gateways
 * over real nats-servers, with a real webhook receiver on loopback.
 *
 * Exit codes: 2 only for what the CLI itself finds wrong before it sends anything; every
 * refusal of the gateway (a 400 for a position beyond the end included) is 1.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runGateway, type RunningGateway } from "../../src/app.js";
import { newApiKey } from "../../src/auth/authenticator.js";
import { loadConfig } from "../../src/config/config.js";
import { startAuthGateway } from "../support/auth-gateway.js";
import { client } from "../support/http.js";
import { cli, CliProcess, jsonLines, type CliResult } from "../support/cli-process.js";
import { tag, T } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { eventually } from "../support/wait.js";
import { envelopeAt, publish, streamInfo, type EventSpec } from "../support/webhooks.js";

let gw: TestGateway;
let receiver: Receiver;
beforeAll(async () => {
  gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await gw?.close();
});

const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.kill();
});

/** The CLI against the shared gateway, named by STREAMGATE_URL. */
const sg = (...args: string[]) => cli(args, { STREAMGATE_URL: gw.url });

/** A CLI left running (tail following live), ended after the test whatever happens. */
function started(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = new CliProcess(args, env);
  running.push(child);
  return child;
}

function expectOk(run: CliResult): void {
  expect(run.code, `stderr: ${run.stderr}`).toBe(0);
}

/** Exit 2 with a message on stderr and nothing on stdout. */
function expectUsageError(run: CliResult, message: string | RegExp): void {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(message);
}

/** Exit 1 with the gateway's error code on stderr and nothing on stdout. */
function expectGatewayError(run: CliResult, code: string, message: string | RegExp = ""): void {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toContain(`streamgate: ${code}`);
  expect(run.stderr).toMatch(message);
}

const offsets = (values: unknown[]) => values.map((v) => (v as { offset: number }).offset);
const shipped = (orderId: string): EventSpec => ({ type: T.shipped, data: { orderId, carrier: "dhl" } });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("streams list and info", () => {
  it("list --json prints the API's answer; the table has a row per stream with its offsets", async () => {
    const [json, plain] = [await sg("streams", "list", "--json"), await sg("streams", "list")];
    expectOk(json);
    expectOk(plain);
    const api = await gw.api.get("/v1/streams");
    expect(JSON.parse(json.stdout)).toEqual(api.body);
    const [header, ...rows] = plain.stdout.trimEnd().split("\n").map((line) => line.split(/ {2,}/));
    expect(header).toEqual(["STREAM", "FIRST", "LAST", "EVENTS", "BYTES", "TYPES", "DESCRIPTION"]);
    const streams = api.body.streams as { name: string; first_offset: number; last_offset: number; events: number; bytes: number; types: string[]; description: string }[];
    expect(streams.map((s) => s.name).sort()).toEqual(["metrics", "orders"]);
    expect(rows).toEqual(streams.map((s) => [s.name, `${s.first_offset}`, `${s.last_offset}`, `${s.events}`, `${s.bytes}`, `${s.types.length}`, s.description]));
  });

  it("info --json prints the API's answer; the plain form lists the fields and every type", async () => {
    await publish(gw.api, [shipped(tag("info"))]);
    const [json, plain] = [await sg("streams", "info", "orders", "--json"), await sg("streams", "info", "orders")];
    expectOk(json);
    expectOk(plain);
    const api = await gw.api.get("/v1/streams/orders");
    expect(JSON.parse(json.stdout)).toEqual(api.body);
    expect(api.body.last_offset).toBeGreaterThan(0);
    const lines = plain.stdout.trimEnd().split("\n");
    expect(lines).toContain(`last offset:  ${api.body.last_offset}`);
    expect(lines).toContain(`epoch:        ${api.body.epoch}`);
    expect(api.body.types).toEqual([T.created, T.shipped, T.cancelled]);
    expect(lines.slice(-3)).toEqual([`types:        ${T.created}`, `              ${T.shipped}`, `              ${T.cancelled}`]);
  });

  it("--url wins over STREAMGATE_URL", async () => {
    const run = await cli(["streams", "info", "orders", "--json", "--url", gw.url], { STREAMGATE_URL: `http://127.0.0.1:${await closedPort()}` });
    expectOk(run);
    expect(JSON.parse(run.stdout).name).toBe("orders");
  });
});

describe("publish, then tail", () => {
  it("tail --from first --until-caught-up --json prints exactly the published events, in order, as the API gives them", async () => {
    // Only this test writes to metrics, so from=first is exactly what it published.
    const samples = [1.5, -2, 1e21].map((value, i) => ({ name: `cpu-${i}`, value, labels: { host: "a" } }));
    const published = [];
    for (const [i, sample] of samples.entries()) {
      // The second through stdin.
      const run = i === 1 ? await cli(["publish", "metrics", T.metric, "-", "--json"], { STREAMGATE_URL: gw.url }, JSON.stringify(sample)) : await sg("publish", "metrics", T.metric, JSON.stringify(sample), "--json");
      expectOk(run);
      published.push(JSON.parse(run.stdout) as { offset: number; id: string; duplicate: boolean });
    }
    expect(published.map((p) => p.duplicate)).toEqual([false, false, false]);

    const tail = await sg("tail", "metrics", "--from", "first", "--until-caught-up", "--json");
    expectOk(tail);
    // No progress bar, nor anything else, when stderr is not a terminal.
    expect(tail.stderr).toBe("");
    const events = jsonLines(tail.stdout);
    expect(offsets(events)).toEqual(published.map((p) => p.offset));
    const api = await gw.api.get("/v1/streams/metrics/poll?from=first&wait=0");
    expect(events).toEqual(api.body.events);
    expect(events.map((e) => (e as { data: unknown }).data)).toEqual(samples.map(({ name, value, labels }) => ({ name, value, labels })));
  });

  it("publish prints the offset and id; the same --id again is a duplicate at that offset; --key sets the key", async () => {
    const id = tag("cli-id");
    const orderId = tag("ord");
    const data = JSON.stringify({ orderId, carrier: "ups" });
    const first = await sg("publish", "orders", T.shipped, data, "--id", id, "--key", "chosen-key");
    expectOk(first);
    const offset = Number(/^orders: published at offset (\d+), id (\S+)\n$/.exec(first.stdout)?.[1]);
    expect(first.stdout).toBe(`orders: published at offset ${offset}, id ${id}\n`);
    const again = await sg("publish", "orders", T.shipped, data, "--id", id, "--json");
    expectOk(again);
    expect(JSON.parse(again.stdout)).toEqual({ offset, id, duplicate: true });
    expect(await envelopeAt(gw.api, offset)).toMatchObject({ id, type: T.shipped, key: "chosen-key", data: { orderId, carrier: "ups" } });
  });

  it("--types and --key filter; the tail ends at the last offset even when a filter passes over it", async () => {
    const [a, b] = [tag("a"), tag("b")];
    const stored = await publish(gw.api, [
      { type: T.created, data: { orderId: a } },
      shipped(a),
      { type: T.cancelled, data: { orderId: a, reason: "REASON_OUT_OF_STOCK" } },
      // Last, and matched by neither filter.
      shipped(b),
    ]);
    const run = await sg("tail", "orders", "--from", `${stored[0]!.offset}`, "--key", a, "--types", `${T.shipped},${T.cancelled}`, "--until-caught-up", "--json");
    expectOk(run);
    const events = jsonLines(run.stdout) as { offset: number; key: string; type: string }[];
    expect(events.map((e) => [e.offset, e.type, e.key])).toEqual([
      [stored[1]!.offset, T.shipped, a],
      [stored[2]!.offset, T.cancelled, a],
    ]);
  });

  it("prints events for people: offset, time, type and key, then the data as indented JSON", async () => {
    const orderId = tag("pretty");
    const [stored] = await publish(gw.api, [{ type: T.cancelled, data: { orderId, reason: "REASON_PAYMENT_FAILED" } }]);
    const run = await sg("tail", "orders", "--from", `${stored!.offset}`, "--until-caught-up");
    expectOk(run);
    const { time } = await envelopeAt(gw.api, stored!.offset);
    expect(run.stdout).toBe(
      [`#${stored!.offset}  ${time}  ${T.cancelled}  key=${orderId}`, "  {", `    "orderId": "${orderId}",`, `    "reason": "REASON_PAYMENT_FAILED"`, "  }", ""].join("\n"),
    );
    expect(run.stderr).toBe("");
  });

  it("--last n prints the stream's last n events", async () => {
    await publish(gw.api, [shipped(tag("l")), shipped(tag("l")), shipped(tag("l"))]);
    const { last_offset } = await streamInfo(gw.api);
    const run = await sg("tail", "orders", "--last", "2", "--until-caught-up", "--json");
    expectOk(run);
    expect(offsets(jsonLines(run.stdout))).toEqual([last_offset - 1, last_offset]);
  });

  it("without --until-caught-up it follows live until Ctrl-C, then exits 0", async () => {
    const { last_offset } = await streamInfo(gw.api);
    // From the next offset rather than "now": what is published before its first poll still counts.
    const tail = started(["tail", "orders", "--from", `${last_offset + 1}`, "--json"], { STREAMGATE_URL: gw.url });
    const stored = await publish(gw.api, [shipped(tag("live")), shipped(tag("live"))]);
    await tail.until(() => tail.jsonLines().length >= 2, "two events", 30_000);
    tail.interrupt();
    const result = await tail.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(offsets(jsonLines(result.stdout))).toEqual(stored.map((s) => s.offset));
  });

  it("draws a progress bar on stderr over the replayed range when stderr is a terminal", async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamgate-cli-tty-"));
    try {
      const out = join(dir, "events.jsonl");
      await publish(gw.api, [shipped(tag("bar"))]);
      const { last_offset } = await streamInfo(gw.api);
      // script(1) runs the command on a pseudo-terminal (stderr) and copies what it shows to its stdout.
      const command = `${process.execPath} --import tsx src/cli/main.ts tail orders --from first --until-caught-up --json > ${out}`;
      const terminal = await new Promise<{ code: number; shown: string }>((resolve) => {
        execFile("script", ["-qec", command, "/dev/null"], { env: { ...process.env, STREAMGATE_URL: gw.url } }, (err, stdout) => {
          resolve({ code: err ? Number(err.code) : 0, shown: stdout });
        });
      });
      expect(terminal.code, terminal.shown).toBe(0);
      expect(terminal.shown).toContain("replaying orders");
      expect(terminal.shown).toContain(`100% | ${last_offset}/${last_offset} offsets`);
      expect(offsets(jsonLines(await readFile(out, "utf8")))).toEqual(Array.from({ length: last_offset }, (_, i) => i + 1));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("webhooks", () => {
  it("create delivers with its headers and filters; list shows it; attempts log it; replay delivers again", async () => {
    const key = tag("wh");
    const stored = await publish(gw.api, [shipped(key), shipped(tag("other")), shipped(key)]);
    const create = await sg(
      "webhooks", "create", "--url", receiver.url, "--stream", "orders", "--from", `${stored[0]!.offset}`, "--key", key,
      "--header", "x-cli=yes", "--header", "x-team=orders=eu", "--json",
    );
    expectOk(create);
    const webhook = JSON.parse(create.stdout);
    expect(webhook).toMatchObject({ url: receiver.url, stream: "orders", key, position: stored[0]!.offset, headers: ["x-cli", "x-team"], status: "active" });
    expect(webhook.secret).toMatch(/^whsec_/);
    const mine = () => receiver.requests.filter((r) => JSON.parse(r.body).key === key);
    await receiver.until(() => mine().length >= 2, "two deliveries");
    expect(mine().map((r) => r.offset)).toEqual([stored[0]!.offset, stored[2]!.offset]);
    expect(mine().map((r) => [r.headers["x-cli"], r.headers["x-team"]])).toEqual([["yes", "orders=eu"], ["yes", "orders=eu"]]);

    const list = await sg("webhooks", "list", "--json");
    expectOk(list);
    expect(JSON.parse(list.stdout).webhooks.map((w: { id: string }) => w.id)).toContain(webhook.id);
    const plain = await sg("webhooks", "list");
    expectOk(plain);
    const row = plain.stdout.split("\n").find((line) => line.startsWith(webhook.id))?.split(/ {2,}/);
    expect(row?.slice(0, 3)).toEqual([webhook.id, "orders", "active"]);
    expect(row?.at(-1)).toBe(receiver.url);

    // Both attempts are logged once the webhook has moved past them.
    await eventually(async () => (await gw.api.get(`/v1/webhooks/${webhook.id}/attempts`)).body.attempts.length, (n) => n >= 2, "two logged attempts");
    const attempts = await sg("webhooks", "attempts", webhook.id, "--json");
    expectOk(attempts);
    const logged = JSON.parse(attempts.stdout).attempts as { offset: number; status: number; attempt: number }[];
    expect(logged.map((a) => [a.offset, a.status, a.attempt])).toEqual([
      [stored[2]!.offset, 204, 1],
      [stored[0]!.offset, 204, 1],
    ]);
    const table = await sg("webhooks", "attempts", webhook.id, "--limit", "1");
    expectOk(table);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]!.split(/ {2,}/).slice(1, 5)).toEqual([`${stored[2]!.offset}`, stored[2]!.id, "1", "204"]);

    const replay = await sg("webhooks", "replay", webhook.id, "--from", `${stored[0]!.offset}`);
    expectOk(replay);
    expect(replay.stdout).toContain(`position: ${stored[0]!.offset}`);
    await receiver.until(() => mine().length >= 4, "the replayed deliveries");
    expect(mine().map((r) => r.offset)).toEqual([stored[0]!.offset, stored[2]!.offset, stored[0]!.offset, stored[2]!.offset]);
  });

  it("an event that runs out of retries is a dead letter; redeliver sends it again", async () => {
    const key = tag("dead");
    let failing = true;
    const failingPath = `/failing-${key}`;
    const accepted: number[] = [];
    receiver.behaviour = (req) => {
      if (req.path !== failingPath) return 204;
      if (failing) return 500;
      accepted.push(req.offset);
      return 204;
    };
    const [stored] = await publish(gw.api, [shipped(key)]);
    const create = await sg(
      "webhooks", "create", "--url", `${receiver.origin}${failingPath}`, "--stream", "orders", "--from", `${stored!.offset}`, "--key", key,
      "--retry-schedule", "50ms", "--json",
    );
    expectOk(create);
    const { id } = JSON.parse(create.stdout);
    await eventually(async () => (await gw.api.get(`/v1/webhooks/${id}/dead-letters`)).body.deadLetters.length, (n) => n === 1, "a dead letter");

    const dead = await sg("webhooks", "dead-letters", id, "--json");
    expectOk(dead);
    const letters = JSON.parse(dead.stdout).deadLetters as { offset: number; attempts: number; lastError: string }[];
    expect(letters.map((d) => [d.offset, d.attempts])).toEqual([[stored!.offset, 2]]);
    const plain = await sg("webhooks", "dead-letters", id);
    expectOk(plain);
    expect(plain.stdout.trimEnd().split("\n")[1]!.split(/ {2,}/).slice(0, 3)).toEqual([`${stored!.offset}`, stored!.id, "2"]);

    failing = false;
    const redeliver = await sg("webhooks", "redeliver", id);
    expectOk(redeliver);
    expect(redeliver.stdout).toBe(`${id}: 1 dead letter(s) queued for delivery again\n`);
    await receiver.until(() => accepted.length >= 1, "the redelivery");
    expect(accepted).toEqual([stored!.offset]);
  });

  it("an unknown webhook is the gateway's not_found, exit 1", async () => {
    expectGatewayError(await sg("webhooks", "attempts", "wh_000000000000000000000000"), "not_found", /no webhook/);
  });
});

describe("gap notices", () => {
  let purged: TestGateway;
  beforeAll(async () => {
    // A purge is stream-wide: a gateway of its own, whose orders hold offsets 4 and 5 only.
    purged = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    await publish(purged.api, Array.from({ length: 5 }, (_, i) => shipped(`gap-${i}`)));
    await purged.gateway.session.backbone.jsm.streams.purge("orders", { keep: 2 });
  });
  afterAll(async () => {
    await purged?.close();
  });

  it("--json prints the gap as a {\"gap\":...} line, then the events still held", async () => {
    const run = await cli(["tail", "orders", "--from", "1", "--until-caught-up", "--json"], { STREAMGATE_URL: purged.url });
    expectOk(run);
    const { epoch } = (await purged.api.get("/v1/streams/orders")).body;
    const [gap, ...events] = jsonLines(run.stdout);
    expect(gap).toEqual({ gap: { stream: "orders", requested: 1, first: 4, epoch } });
    expect(offsets(events)).toEqual([4, 5]);
  });

  it("the plain form says it on stderr; stdout has only the events", async () => {
    const run = await cli(["tail", "orders", "--from", "2", "--until-caught-up"], { STREAMGATE_URL: purged.url });
    expectOk(run);
    expect(run.stderr).toMatch(/^gap in orders: offset 2 was asked for, but the oldest event held is 4 .*; reading on from 4\n$/);
    expect(run.stdout.match(/^#\d+/gm)).toEqual(["#4", "#5"]);
  });

  it("webhooks create from below the oldest event says so", async () => {
    const run = await cli(["webhooks", "create", "--url", receiver.url, "--stream", "orders", "--from", "1"], { STREAMGATE_URL: purged.url });
    expectOk(run);
    expect(run.stdout).toMatch(/^id: +wh_[0-9a-f]{24}\nsecret: +whsec_/);
    expect(run.stdout).toContain("position: 4");
    expect(run.stderr).toContain("gap in orders: offset 1 was asked for, but the oldest event held is 4");
  });
});

describe("a tail that follows live", () => {
  let nats: TestNats;
  let gateway: RunningGateway | undefined;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await gateway?.stop();
    await nats?.stop();
  });

  it("rides out a gateway restart and resumes where it stood: nothing lost, nothing repeated", async () => {
    const serve = (port: number) => runGateway(loadConfig({ NATS_URL: nats.url, PORT: `${port}`, STREAMGATE_LOG_LEVEL: "warn" }));
    gateway = await serve(0);
    const { port } = gateway.app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    const api = client(url);
    const tail = started(["tail", "orders", "--from", "1", "--json"], { STREAMGATE_URL: url });
    const [first] = await publish(api, [shipped(tag("restart"))]);
    await tail.until(() => tail.jsonLines().length === 1, "the first event", 30_000);

    await gateway.stop();
    gateway = undefined;
    await tail.until(() => tail.stderr.includes(`cannot reach the gateway at ${url}`), "the tail to lose the gateway", 30_000);
    gateway = await serve(port);
    const [second] = await publish(api, [shipped(tag("restart"))]);
    await tail.until(() => tail.jsonLines().length === 2, "the event published after the restart", 30_000);
    tail.interrupt();
    const result = await tail.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(offsets(jsonLines(result.stdout))).toEqual([first!.offset, second!.offset]);
    expect(result.stderr).toContain("streamgate: reconnected");
  });
});

describe("credentials", () => {
  let secured: TestGateway;
  const { key, sha256 } = newApiKey();
  beforeAll(async () => {
    secured = await startAuthGateway([{ name: "cli", sha256, grants: [{ streams: ["*"], actions: ["subscribe", "publish"] }] }]);
  });
  afterAll(async () => {
    await secured?.close();
  });

  it("none is unauthenticated, exit 1; --token, STREAMGATE_TOKEN and STREAMGATE_API_KEY are sent as a bearer credential", async () => {
    const env = { STREAMGATE_URL: secured.url };
    expectGatewayError(await cli(["streams", "list"], env), "unauthenticated");
    expectOk(await cli(["streams", "list", "--token", key], env));
    expectOk(await cli(["publish", "orders", T.shipped, JSON.stringify({ orderId: "cred" })], { ...env, STREAMGATE_API_KEY: key }));
    // STREAMGATE_TOKEN comes first; the tail's every request carries it.
    const tail = await cli(["tail", "orders", "--from", "first", "--until-caught-up", "--json"], { ...env, STREAMGATE_TOKEN: key, STREAMGATE_API_KEY: "sgk_wrong" });
    expectOk(tail);
    expect(jsonLines(tail.stdout).map((e) => (e as { key: string }).key)).toEqual(["cred"]);
  });
});

describe("mistakes", () => {
  it("bad usage exits 2 with a message on stderr and nothing on stdout, before anything is sent", async () => {
    // STREAMGATE_URL names no gateway: had any of these sent a request, it would exit 1.
    const env = { STREAMGATE_URL: `http://127.0.0.1:${await closedPort()}` };
    const cases: [string[], RegExp][] = [
      [["tail"], /missing required argument 'stream'/],
      [["tail", "orders", "--from", "soon"], /from must be a whole number, not "soon"/],
      [["tail", "orders", "--from", "1", "--last", "2"], /cannot be used with option/],
      [["tail", "orders", "--since", "2026-02-30T00:00:00Z"], /since/],
      [["publish", "orders", T.shipped, "{not json"], /<json>: not JSON/],
      [["webhooks", "replay", "wh_000000000000000000000000"], /give the position to replay from/],
      [["webhooks", "create", "--url", "http://127.0.0.1:9/hook", "--stream", "orders", "--header", "novalue"], /--header novalue: not name=value/],
      [["webhooks", "attempts", "wh_000000000000000000000000", "--limit", "ten"], /--limit <n>.*not a whole number/],
      [["streams", "list", "--url", "not a url"], /--url <url>.*invalid/],
    ];
    for (const [args, message] of cases) expectUsageError(await cli(args, env), message);
  });

  it("the gateway's refusals exit 1 with the API's error code and message", async () => {
    expectGatewayError(await sg("streams", "info", "nosuch"), "not_found", /nosuch/);
    expectGatewayError(await sg("publish", "orders", T.shipped, JSON.stringify({ orderId: 17 })), "invalid_argument", /data\.orderId/);
    // A position beyond the end depends on the stream, not on the command line: the gateway's 400, exit 1.
    expectGatewayError(await sg("tail", "orders", "--from", "999999", "--until-caught-up"), "invalid_argument", /beyond the end/);
  });

  it("a gateway that is not there exits 1 with a message naming its URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [["streams", "list"], ["tail", "orders"]]) {
      const run = await cli([...args, "--url", url]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(`streamgate: cannot reach the gateway at ${url}: connection refused (is the gateway running?)\n`);
    }
  });
});

describe("--help and --version", () => {
  const commands = [
    ["streams", "list"],
    ["streams", "info"],
    ["tail"],
    ["publish"],
    ["webhooks"],
    ["webhooks", "list"],
    ["webhooks", "create"],
    ["webhooks", "replay"],
    ["webhooks", "attempts"],
    ["webhooks", "dead-letters"],
    ["webhooks", "redeliver"],
  ];

  it.each(commands.map((command) => ({ name: command.join(" "), command })))("$name", async ({ name, command }) => {
    const { version } = JSON.parse(await readFile("package.json", "utf8"));
    const [help, shown] = await Promise.all([cli([...command, "--help"]), cli([...command, "--version"])]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: streamgate ${name} `));
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(`${version}\n`);
  });
});
