/**
 * `streamgate dev cluster` as a user runs it: it prints the load balancer's URL, NATS_URL and
 * its gateways, serves /readyz through the load balancer, and on SIGTERM stops everything it
 * started and exits 0.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, CliProcess } from "../support/cli-process.js";
import { acceptsConnections } from "../support/ports.js";
import { isGone } from "../support/process.js";

let dir: string | undefined;
let run: CliProcess | undefined;

afterEach(async () => {
  await run?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("streamgate dev cluster", () => {
  it("prints its URLs, serves /readyz through the load balancer and leaves nothing behind on SIGTERM", async () => {
    dir = await mkdtemp(join(tmpdir(), "streamgate-dev-cluster-cli-"));
    run = new CliProcess(["dev", "cluster", "--gateways", "1", "--port", "0", "--dir", dir]);
    await run.until(() => run!.stdout.includes("Ctrl-C stops everything."), "the cluster's URLs", 50_000);

    const lbUrl = /^load balancer +(http:\/\/127\.0\.0\.1:\d+)$/m.exec(run.stdout)?.[1];
    const natsUrl = /^NATS_URL +(\S+)$/m.exec(run.stdout)?.[1];
    const gatewayPids = [...run.stdout.matchAll(/^gateway gw\d+ +http:\/\/127\.0\.0\.1:\d+ +\(pid (\d+),/gm)].map((match) => Number(match[1]));
    expect(lbUrl, run.stdout).toBeDefined();
    expect(natsUrl?.split(","), run.stdout).toHaveLength(3);
    expect(gatewayPids, run.stdout).toHaveLength(1);
    const readyz = await fetch(`${lbUrl}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ status: "ready" });

    process.kill(run.child.pid!, "SIGTERM");
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("stopped");
    expect(gatewayPids.filter((pid) => !isGone(pid)), "gateways still running").toEqual([]);
    for (const url of [lbUrl!, ...natsUrl!.split(",")]) {
      const { hostname, port } = new URL(url);
      expect(await acceptsConnections(hostname, Number(port)), `something listens on ${url} after the exit`).toBe(false);
    }
  });

  it("refuses a cluster of no gateways as a usage mistake, before starting anything", async () => {
    const result = await cli(["dev", "cluster", "--gateways", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--gateways <n>' argument '0' is invalid. at least 1");
  });
});
