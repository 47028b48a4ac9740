/**
 * docs/deployment.md shows the load balancer configuration verbatim: the file the dev cluster
 * and the tests run haproxy with.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { HAPROXY_TEMPLATE } from "../../src/dev-cluster/load-balancer-config.js";

describe("docs/deployment.md", () => {
  it("shows deploy/haproxy.cfg as it is", async () => {
    const guide = await readFile(new URL("../../docs/deployment.md", import.meta.url), "utf8");
    const blocks = [...guide.matchAll(/^```haproxy\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
    expect(blocks).toEqual([await readFile(HAPROXY_TEMPLATE, "utf8")]);
  });
});
