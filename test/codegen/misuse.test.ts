/**
 * Schema misuse fails `buf generate` with a message naming the proto file, the message (for
 * event options) and the option. Each case is a scratch buf module holding a copy of
 * streamgate/v1/options.proto and a few .proto files, generated with only our plugin.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { bufTemplate } from "../../src/codegen/buf-template.js";
import { STREAM_NAME_PATTERN } from "../../src/schema/definitions.js";
import { repoRoot, run, type RunResult } from "./exec.js";

const STREAM = "streamgate.v1.stream";
const EVENT = "streamgate.v1.event";

/** A proto3 file in `pkg` that imports the streamgate options. */
function proto(pkg: string, body: string): string {
  return `syntax = "proto3";\n\npackage ${pkg};\n\nimport "streamgate/v1/options.proto";\n\n${body.trim()}\n`;
}

/** A file-level stream declaration. */
const stream = (name: string) => `option (streamgate.v1.stream) = { name: ${JSON.stringify(name)} };\n`;

/** A message declared as an event of `streamName`. */
function event(message: string, streamName: string, keyField: string | undefined, fields: string): string {
  const key = keyField === undefined ? "" : ` key_field: ${JSON.stringify(keyField)}`;
  return `message ${message} {
  option (streamgate.v1.event) = { stream: ${JSON.stringify(streamName)}${key} };
${fields.trim().replace(/^/gm, "  ")}
}
`;
}

const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Generated extends RunResult {
  dir: string;
  /** Files the plugin wrote, relative to its out directory. */
  outputs: string[];
}

/** Writes `files` into a scratch buf module and runs `buf generate` with only our plugin. */
async function generate(files: Record<string, string>): Promise<Generated> {
  const dir = await mkdtemp(join(tmpdir(), "streamgate-misuse-"));
  scratchDirs.push(dir);
  await mkdir(join(dir, "streamgate", "v1"), { recursive: true });
  await cp(join(repoRoot, "proto", "streamgate", "v1", "options.proto"), join(dir, "streamgate", "v1", "options.proto"));
  await writeFile(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: .\n");
  // The template npm run codegen uses (strategy all: the cross-file checks need every file at once).
  const template = bufTemplate({
    messagesOut: "messages",
    streamsOut: "out",
    pluginCommand: [join(repoRoot, "node_modules/.bin/tsx"), join(repoRoot, "src/codegen/plugin.ts")],
  });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const result = await run(join(repoRoot, "node_modules/.bin/buf"), ["generate", "--template", template], { cwd: dir });
  const outputs = await readdir(join(dir, "out"), { recursive: true }).catch(() => []);
  return { ...result, dir, outputs: outputs.map(String).sort() };
}

interface MisuseCase {
  name: string;
  files: Record<string, string>;
  /** The proto file(s) the error must name. */
  file: string | string[];
  /** The fully-qualified message the error must name; none for file-level stream options. */
  message?: string;
  option: typeof STREAM | typeof EVENT;
  problem: string | RegExp;
}

const tooLong = "a".repeat(64);

const cases: MisuseCase[] = [
  {
    name: "an event naming a stream that is not declared",
    files: {
      "shop/v1/shop.proto": proto(
        "shop.v1",
        stream("shop") + "\n" + event("OrderPlaced", "shipping", "order_id", "string order_id = 1;"),
      ),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.OrderPlaced",
    option: EVENT,
    problem: 'stream "shipping" is not declared (declared streams: shop)',
  },
  {
    name: "an event naming a stream when no stream is declared anywhere",
    files: {
      "shop/v1/shop.proto": proto("shop.v1", event("OrderPlaced", "shop", undefined, "string order_id = 1;")),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.OrderPlaced",
    option: EVENT,
    problem: 'stream "shop" is not declared (declared streams: none)',
  },
  {
    name: "an event without a stream",
    files: {
      "shop/v1/shop.proto": proto(
        "shop.v1",
        stream("shop") +
          "\nmessage OrderPlaced {\n  option (streamgate.v1.event) = { key_field: \"order_id\" };\n  string order_id = 1;\n}\n",
      ),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.OrderPlaced",
    option: EVENT,
    problem: "stream is required",
  },
  {
    name: "a key_field that is an int64",
    files: {
      "shop/v1/shop.proto": proto(
        "shop.v1",
        stream("shop") + "\n" + event("OrderPlaced", "shop", "sequence", "string order_id = 1;\nint64 sequence = 2;"),
      ),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.OrderPlaced",
    option: EVENT,
    problem: /key_field "sequence" must be a singular string field, not an? int64 field/,
  },
  {
    name: "a key_field that is a repeated string",
    files: {
      "shop/v1/shop.proto": proto(
        "shop.v1",
        stream("shop") + "\n" + event("OrderPlaced", "shop", "tags", "string order_id = 1;\nrepeated string tags = 2;"),
      ),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.OrderPlaced",
    option: EVENT,
    problem: 'key_field "tags" must be a singular string field, not a list field',
  },
  {
    name: "a key_field naming no field (the JSON name instead of the proto name)",
    files: {
      "shop/v1/shop.proto": proto(
        "shop.v1",
        stream("shop") + "\n" + event("OrderPlaced", "shop", "orderId", "string order_id = 1;"),
      ),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.OrderPlaced",
    option: EVENT,
    problem: 'key_field "orderId" is not a field of shop.v1.OrderPlaced',
  },
  {
    name: "a key_field naming no field, on a nested message",
    files: {
      "shop/v1/shop.proto": proto(
        "shop.v1",
        stream("shop") +
          "\nmessage Order {\n" +
          event("Placed", "shop", "id", "string order_id = 1;").replace(/^/gm, "  ").trimEnd() +
          "\n}\n",
      ),
    },
    file: "shop/v1/shop.proto",
    message: "shop.v1.Order.Placed",
    option: EVENT,
    problem: 'key_field "id" is not a field of shop.v1.Order.Placed',
  },
  {
    name: "two streams with one name, in two files",
    files: {
      "billing/v1/billing.proto": proto("billing.v1", stream("orders")),
      "shop/v1/shop.proto": proto("shop.v1", stream("orders")),
    },
    file: ["billing/v1/billing.proto", "shop/v1/shop.proto"],
    option: STREAM,
    problem: /stream "orders" is already declared in (billing|shop)\/v1\/\1\.proto/,
  },
  ...[
    ["an upper-case stream name", "Orders"],
    ["a stream name starting with a digit", "9lives"],
    ["a stream name of 64 characters", tooLong],
    ["a stream name with a dot", "orders.v1"],
    ["a missing stream name", ""],
  ].map(
    ([name, streamName]): MisuseCase => ({
      name: name!,
      files: { "shop/v1/shop.proto": proto("shop.v1", stream(streamName!)) },
      file: "shop/v1/shop.proto",
      option: STREAM,
      problem: `invalid stream name "${streamName}": it must match ${STREAM_NAME_PATTERN.source}`,
    }),
  ),
];

describe.concurrent("codegen refuses schema misuse", () => {
  it.for(cases)("$name", async ({ files, file, message, option, problem }, { expect }) => {
    const result = await generate(files);
    expect(result.code, result.stderr).not.toBe(0);
    const stderr = result.stderr;
    for (const f of [file].flat()) expect(stderr).toContain(f);
    if (message) expect(stderr).toContain(`message ${message}`);
    expect(stderr).toContain(`(${option})`);
    if (typeof problem === "string") expect(stderr).toContain(problem);
    else expect(stderr).toMatch(problem);
    // It is our SchemaError, reported by the plugin, not a crash or a protoc parse error.
    expect(stderr).toContain("protoc-gen-streamgate: ");
    expect(result.outputs).toEqual([]);
  });
});

describe.concurrent("codegen harness (positive controls)", () => {
  it("generates a typed descriptor for a valid scratch schema", async ({ expect }) => {
    const result = await generate({
      "shop/v1/shop.proto": proto(
        "shop.v1",
        `option (streamgate.v1.stream) = {
  name: "shop-orders"
  description: "Scratch stream"
  retention: { max_age: { seconds: 3600 } }
};

${event("OrderPlaced", "shop-orders", "order_id", "string order_id = 1;\nint64 total_cents = 2;")}
message Order {
${event("Paid", "shop-orders", undefined, "string order_id = 1;").replace(/^/gm, "  ").trimEnd()}
}`,
      ),
      // An event in another file and package may join a stream declared elsewhere.
      "billing/v1/billing.proto": proto(
        "billing.v1",
        event("Refunded", "shop-orders", "refund_id", "string refund_id = 1;"),
      ),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.outputs).toEqual(["index.ts", "shop-orders.ts"]);
    const source = await readFile(join(result.dir, "out", "shop-orders.ts"), "utf8");
    expect(source).toContain('name: "shop-orders",');
    expect(source).toContain("maxAgeMs: 3600000,");
    expect(source).toContain('"shop.v1.OrderPlaced": { codec: shop_v1_shop_pb.OrderPlaced, keyField: "orderId" },');
    expect(source).toContain('"shop.v1.Order.Paid": { codec: shop_v1_shop_pb.Order_Paid },');
    expect(source).toContain('"billing.v1.Refunded": { codec: billing_v1_billing_pb.Refunded, keyField: "refundId" },');
    expect(source).toContain('import * as shop_v1_shop_pb from "../ts/shop/v1/shop.js";');
    expect(source).toContain('import * as billing_v1_billing_pb from "../ts/billing/v1/billing.js";');
    expect(source).toContain("export type ShopOrdersEvent = ConsumedEvent<typeof shopOrders>;");
    const index = await readFile(join(result.dir, "out", "index.ts"), "utf8");
    expect(index).toContain("export const streams = [shopOrders] as const;");
  });

  it("accepts a stream name of 63 characters, the longest allowed", async ({ expect }) => {
    const longest = "a".repeat(63);
    const result = await generate({
      "shop/v1/shop.proto": proto("shop.v1", stream(longest) + "\n" + event("OrderPlaced", longest, "order_id", "string order_id = 1;")),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.outputs).toEqual([`${longest}.ts`, "index.ts"]);
    const source = await readFile(join(result.dir, "out", `${longest}.ts`), "utf8");
    expect(source).toContain('"shop.v1.OrderPlaced": { codec: shop_v1_shop_pb.OrderPlaced, keyField: "orderId" },');
  });

  it("keeps events of two packages that share a message name apart", async ({ expect }) => {
    const result = await generate({
      "shop/v1/shop.proto": proto("shop.v1", stream("shop") + "\n" + event("Created", "shop", undefined, "string id = 1;")),
      "billing/v1/billing.proto": proto("billing.v1", event("Created", "shop", undefined, "string id = 1;")),
    });
    expect(result.code, result.stderr).toBe(0);
    const source = await readFile(join(result.dir, "out", "shop.ts"), "utf8");
    expect(source).toContain('"shop.v1.Created": { codec: shop_v1_shop_pb.Created },');
    expect(source).toContain('"billing.v1.Created": { codec: billing_v1_billing_pb.Created },');
  });
});

describe.concurrent("stream names the generated code cannot tell apart", () => {
  it("refuses two stream names that make the same identifier", async ({ expect }) => {
    const result = await generate({
      "a/v1/a.proto": proto("a.v1", stream("a-b")),
      "b/v1/b.proto": proto("b.v1", stream("a_b")),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/option \(streamgate\.v1\.stream\): streams "(a-b|a_b)" \([ab]\/v1\/[ab]\.proto\) and "(a-b|a_b)" would both generate the identifier aB/);
  });

  it("refuses the stream name index, which the generated index.ts takes", async ({ expect }) => {
    const result = await generate({ "a/v1/a.proto": proto("a.v1", stream("index")) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('a/v1/a.proto: option (streamgate.v1.stream): stream name "index" is taken');
  });
});
