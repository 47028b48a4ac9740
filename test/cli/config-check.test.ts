/**
 * Settings that cannot mean anything are refused with what was meant (issue 11): a misspelt
 * STREAMGATE_ variable, an unknown key in the file, checked by `streamgate config check` and by
 * `serve`, which refuses to start on them. Run as a user runs the CLI, in a child process.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli-process.js";

let dir: string;
const file = async (name: string, config: unknown) => {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(config));
  return path;
};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "streamgate-config-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("streamgate config check", () => {
  it("accepts a valid file, saying what it comes to", async () => {
    const run = await cli(["config", "check", await file("ok.json", { port: 9090, dataDir: "./data", limits: { publishesPerSecond: 50 } })]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^configuration is valid: auth none, listening on 127\.0\.0\.1:9090, embedded nats-server/);
    const json = await cli(["config", "check", join(dir, "ok.json"), "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ port: 9090, dataDir: "./data", limits: { publishesPerSecond: 50, connectionsTotal: 50_000 } });
  });

  it("refuses a near miss of a key with a did-you-mean, and a far one listing the keys there are", async () => {
    const typo = await cli(["config", "check", await file("typo.json", { dataDr: "./data", limits: { publishesPerSecnd: 5 } })]);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toContain('Unrecognized key: "dataDr" (did you mean dataDir?)');
    expect(typo.stderr).toContain("(did you mean publishesPerSecond?)");
    // The README once said "the same names in camelCase": streamgateDataDir is no near miss.
    const far = await cli(["config", "check", await file("far.json", { streamgateDataDir: "./data" })]);
    expect(far.code).toBe(1);
    expect(far.stderr).toMatch(/"streamgateDataDir" \(known: port, host, natsUrl, natsPort, dataDir, /);
  });

  it("refuses a misspelt STREAMGATE_ variable with a did-you-mean, and serve does not start on it", async () => {
    const check = await cli(["config", "check", join(dir, "ok.json")], { STREAMGATE_LOG_LEVL: "debug" });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("unknown environment variable STREAMGATE_LOG_LEVL (did you mean STREAMGATE_LOG_LEVEL?)");
    const serve = await cli(["serve"], { STREAMGATE_LOG_LEVL: "debug", PORT: "0" });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain("did you mean STREAMGATE_LOG_LEVEL?");
  });

  it("is a usage mistake (exit 2) without a subcommand's arguments right", async () => {
    const run = await cli(["config", "check", "a.json", "b.json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/too many arguments/);
  });
});
