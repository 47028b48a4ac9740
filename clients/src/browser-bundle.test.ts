/**
 * @streamgate/client in a browser app: bundled as an app's bundler would (esbuild, browser
 * platform, minified, from an app that calls createClient), its inputs are the client, the
 * shared wire module and their few libraries; nothing of the gateway, Node or NATS; and only the
 * codec of the entry point the app imported. Prints the size an app pays for each.
 */
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

async function bundle(entry: string) {
  const result = await build({
    stdin: { contents: `import { createClient } from "${entry}";\nexport const client = createClient({ baseUrl: location.origin });`, resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    write: false,
    minify: true,
    platform: "browser",
    format: "esm",
    conditions: ["@streamgate/source"],
    metafile: true,
    logLevel: "silent",
  });
  // What made it into the output: an input the bundler shook out entirely holds 0 bytes there.
  const [output] = Object.values(result.metafile.outputs);
  const inputs = Object.entries(output!.inputs)
    .filter(([path, { bytesInOutput }]) => path !== "<stdin>" && bytesInOutput > 0)
    .map(([path]) => path);
  const libraries = [...new Set(inputs.filter((path) => path.includes("node_modules/")).map((path) => path.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, "$1")))].sort();
  const ours = inputs.filter((path) => !path.includes("node_modules/"));
  const code = result.outputFiles[0]!.contents;
  console.log(`${entry} browser bundle: ${(code.length / 1024).toFixed(1)} kB minified, ${(gzipSync(code).length / 1024).toFixed(1)} kB min+gz; libraries ${libraries.join(", ")}`);
  return { ours, libraries };
}

describe("a browser bundle of @streamgate/client", () => {
  it("on protobuf (the default entry) holds the client, the wire module and the protobuf runtime: no JSON codec, no webhook verifier", async () => {
    const { ours, libraries } = await bundle("@streamgate/client");
    expect(ours.filter((path) => !/^(clients\/src|protocol\/(src|generated))\//.test(path))).toEqual([]);
    expect(ours).toContain("protocol/src/proto-codec.ts");
    expect(ours).not.toContain("protocol/src/json-codec.ts");
    expect(ours).not.toContain("clients/src/webhook.ts");
    expect(libraries).toEqual(["@bufbuild/protobuf"]);
  });

  it("on JSON (@streamgate/client/json) holds no protobuf frames and no library at all", async () => {
    const { ours, libraries } = await bundle("@streamgate/client/json");
    expect(ours.filter((path) => !/^(clients\/src|protocol\/(src|generated))\//.test(path))).toEqual([]);
    expect(ours).toContain("protocol/src/json-client-codec.ts");
    // The gateway's half of the JSON codec (zod's checks of client frames) stays out too.
    expect(ours).not.toContain("protocol/src/json-codec.ts");
    expect(ours.filter((path) => path.includes("proto-codec") || path.includes("frames"))).toEqual([]);
    expect(libraries).toEqual([]);
  });
});
