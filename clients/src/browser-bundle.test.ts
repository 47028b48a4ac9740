/**
 * @streamgate/client in a browser app: bundled as an app's bundler would (esbuild, browser
 * platform, minified), its inputs are the client, the shared wire module and their few
 * libraries; nothing of the gateway, Node or NATS. Prints the size an app pays.
 */
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { expect, it } from "vitest";

it("bundles for the browser from the client and the wire module only, and prints its size", async () => {
  const result = await build({
    stdin: { contents: 'export * from "@streamgate/client";', resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    write: false,
    minify: true,
    platform: "browser",
    format: "esm",
    conditions: ["@streamgate/source"],
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs).filter((path) => path !== "<stdin>");
  const libraries = new Set(inputs.filter((path) => path.includes("node_modules/")).map((path) => path.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, "$1")));
  const ours = inputs.filter((path) => !path.includes("node_modules/"));
  expect(ours.filter((path) => !/^(clients\/src|protocol\/(src|generated))\//.test(path))).toEqual([]);
  expect([...libraries].sort()).toEqual(["@bufbuild/protobuf", "@stablelib/base64", "fast-sha256", "secure-json-parse", "standardwebhooks", "zod"]);
  expect(ours).toContain("clients/src/client.ts");
  const bundle = result.outputFiles[0]!.contents;
  console.log(`@streamgate/client browser bundle: ${(bundle.length / 1024).toFixed(1)} kB minified, ${(gzipSync(bundle).length / 1024).toFixed(1)} kB min+gz; libraries ${[...libraries].join(", ")}`);
});
