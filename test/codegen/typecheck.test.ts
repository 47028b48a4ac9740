/**
 * The generated stream descriptors make mistakes in publishing and consuming compile errors.
 * test/fixtures/typecheck/*.fail.ts each hold one mistake, on the line marked `// MISTAKE`;
 * *.pass.ts is the control that must compile. tsc runs with the project's compiler options
 * (tsconfig.{fail,pass}.json there extend the root tsconfig.json): once over all fail
 * fixtures, each error attributed to its file by the path tsc prints, and once over the control.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, run, type RunResult } from "./exec.js";

const fixtures = "test/fixtures/typecheck";

interface Expectation {
  /** The TypeScript error code. */
  code: string;
  /** Texts the error (with its elaboration) must contain. */
  mentions: string[];
}

const expectations: Record<string, Expectation> = {
  "publish-unknown-field.fail.ts": {
    code: "TS2353",
    mentions: ["Object literal may only specify known properties", "'discountCents' does not exist"],
  },
  "publish-string-field-as-number.fail.ts": {
    code: "TS2322",
    mentions: ["Type 'number' is not assignable to type 'string'"],
  },
  "publish-int64-field-as-object.fail.ts": {
    code: "TS2322",
    mentions: ["Type '{}' is not assignable to type 'string | number | bigint | undefined'"],
  },
  "publish-type-not-in-stream.fail.ts": {
    code: "TS2820",
    mentions: [
      `Type '"demo.orders.v1.OrderRefunded"' is not assignable to type`,
      `'"demo.orders.v1.OrderCreated" | "demo.orders.v1.OrderShipped" | "demo.orders.v1.OrderCancelled"'`,
    ],
  },
  "publish-other-event-data.fail.ts": {
    code: "TS2345",
    mentions: ["Types of property 'data' are incompatible", "'carrier' does not exist in type"],
  },
  "consume-without-narrowing.fail.ts": {
    code: "TS2339",
    mentions: [
      "Property 'trackingNumber' does not exist on type 'OrderCreated | OrderShipped | OrderCancelled'",
    ],
  },
};

interface Diagnostic {
  file: string;
  line: number;
  code: string;
  /** The first line's message and any indented elaboration lines. */
  text: string;
}

/** Parses `tsc --pretty false` output: `path(line,col): error TSnnnn: message` plus indented lines. */
function parseDiagnostics(output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const line of output.split("\n")) {
    const head = /^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line);
    if (head) {
      diagnostics.push({ file: head[1]!.replaceAll("\\", "/"), line: Number(head[2]), code: head[3]!, text: head[4]! });
    } else if (line.trim() !== "") {
      const last = diagnostics.at(-1);
      if (!last) throw new Error(`unexpected tsc output: ${line}`);
      last.text += "\n" + line.trim();
    }
  }
  return diagnostics;
}

function tsc(project: string): Promise<RunResult> {
  return run(
    join(repoRoot, "node_modules/.bin/tsc"),
    ["-p", join(fixtures, project), "--noEmit", "--pretty", "false"],
    { cwd: repoRoot },
  );
}

/** The 1-based line of the `// MISTAKE` marker in a fixture. */
async function mistakeLine(file: string): Promise<number> {
  const lines = (await readFile(join(repoRoot, fixtures, file), "utf8")).split("\n");
  const marked = lines.flatMap((text, i) => (text.includes("// MISTAKE") ? [i + 1] : []));
  if (marked.length !== 1) throw new Error(`${file} must mark exactly one line with // MISTAKE`);
  return marked[0]!;
}

let failRun: RunResult;
let passRun: RunResult;
let diagnostics: Diagnostic[];

beforeAll(async () => {
  [failRun, passRun] = await Promise.all([tsc("tsconfig.fail.json"), tsc("tsconfig.pass.json")]);
  diagnostics = parseDiagnostics(failRun.stdout);
});

describe("publishing or consuming wrongly does not compile", () => {
  it("has an expectation for every fail fixture", async () => {
    const files = (await readdir(join(repoRoot, fixtures))).filter((f) => f.endsWith(".fail.ts")).sort();
    expect(files).toEqual(Object.keys(expectations).sort());
  });

  it("tsc exits non-zero, with errors only in the fail fixtures", () => {
    expect(failRun.code, failRun.stdout + failRun.stderr).not.toBe(0);
    expect(diagnostics.length).toBeGreaterThan(0);
    const elsewhere = diagnostics.filter((d) => !(d.file.startsWith(`${fixtures}/`) && d.file.endsWith(".fail.ts")));
    expect(elsewhere).toEqual([]);
  });

  it.each(Object.entries(expectations))("%s", async (file, { code, mentions }) => {
    const mine = diagnostics.filter((d) => d.file === `${fixtures}/${file}`);
    // Exactly one error, on the marked line: the rest of the fixture is a valid program.
    expect(mine, failRun.stdout).toHaveLength(1);
    const [error] = mine;
    expect(error!.line).toBe(await mistakeLine(file));
    expect(error!.code).toBe(code);
    for (const text of mentions) expect(error!.text).toContain(text);
  });
});

describe("publishing and consuming rightly compiles", () => {
  it("the control (publish every event type, narrow on event.type to read a type's field) type-checks", () => {
    expect(passRun.stdout + passRun.stderr).toBe("");
    expect(passRun.code).toBe(0);
  });
});
