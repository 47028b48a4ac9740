import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { VERSION } from "../version.js";

/** What `init` writes, by path; a file that exists already is left alone. */
function scaffold(name: string): Record<string, string> {
  return {
    "buf.yaml": `version: v2
modules:
  # Your schemas.
  - path: proto
  # streamgate's own (the stream and event options), from the installed package.
  - path: node_modules/streamgate/proto
lint:
  use:
    - STANDARD
breaking:
  use:
    - WIRE_JSON
`,
    "proto/app/v1/greetings.proto": `syntax = "proto3";

package app.v1;

import "streamgate/v1/options.proto";

// A stream: events of the types that name it, stored in order with an offset each.
option (streamgate.v1.stream) = {
  name: "greetings"
  description: "Greetings, keyed by who is greeted."
  retention: {
    max_age: {seconds: 604800}
  }
};

message Greeted {
  option (streamgate.v1.event) = {
    stream: "greetings"
    key_field: "name"
  };
  string name = 1;
  string text = 2;
}
`,
    "streamgate.config.json": `${JSON.stringify({ descriptorSet: "./generated/descriptors.binpb", dataDir: "./.streamgate" }, null, 2)}\n`,
    ".gitignore": "node_modules/\n.streamgate/\n",
    "package.json": `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`,
  };
}

const SCRIPTS = { codegen: "streamgate codegen", start: "streamgate serve" };

export function addInitCommand(program: Command): void {
  program
    .command("init")
    .argument("[dir]", "the project's directory", ".")
    .description("scaffold a project: package.json scripts, buf.yaml, a sample stream schema and streamgate.config.json")
    .action((dir: string) => {
      const root = resolve(dir);
      for (const [path, text] of Object.entries(scaffold(basename(root)))) {
        const file = join(root, path);
        if (existsSync(file)) {
          console.log(`kept    ${path} (exists)`);
          continue;
        }
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
        console.log(`created ${path}`);
      }
      addScripts(join(root, "package.json"));
      console.log(`
Next:
  npm install              the generated code imports @streamgate/protocol
  npm run codegen          buf lint, then typed code and generated/descriptors.binpb
  npm start                the gateway on http://127.0.0.1:8080, with an embedded nats-server`);
    });
}

/** Adds our scripts, the runtime the generated code imports and buf's install script, keeping what the project has. */
function addScripts(path: string): void {
  const manifest = JSON.parse(readFileSync(path, "utf8")) as Record<string, Record<string, unknown> | undefined>;
  manifest.scripts = { ...SCRIPTS, ...manifest.scripts };
  manifest.dependencies = { "@streamgate/protocol": `^${VERSION}`, ...manifest.dependencies };
  // buf's install script links its binary for the platform: codegen needs it.
  manifest.allowScripts = { "@bufbuild/buf": true, ...manifest.allowScripts };
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}
