/**
 * @streamgate/protocol is shared with browsers: bundled for the browser platform, nothing in it (or
 * anything it imports) may reach for Node's modules, fastify or NATS.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));

it("bundles for the browser with no Node built-in, fastify or nats module in it", async () => {
  const entryPoints = readdirSync(here)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => here + f);
  expect(entryPoints.length).toBeGreaterThan(5);
  const result = await build({ entryPoints, bundle: true, write: false, platform: "browser", format: "esm", outdir: "/tmp/protocol-bundle", metafile: true, logLevel: "silent" });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((path) => /(^|\/)(node:|fastify|@nats-io|undici|pino)/.test(path))).toEqual([]);
  expect(inputs.some((path) => path.includes("protocol/src/codec.ts"))).toBe(true);
});
