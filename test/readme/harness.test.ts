/** The README test's own parts, on small inputs: what it accepts, and that it refuses the rest. */
import { describe, expect, it } from "vitest";
import { compareOutput, jsonMatches } from "./expected-output.js";
import { planReadme } from "./plan.js";
import { parseReadme } from "./readme-blocks.js";
import { andParts, parseShell } from "./shell-commands.js";

const fence = "```";

describe("planning README blocks", () => {
  it("fails a block it cannot exercise, by its line, and one with an unknown directive", () => {
    const plan = planReadme(
      parseReadme(
        [
          "# x",
          "## A",
          `${fence}sh`,
          "curl -s localhost:8080/readyz",
          fence,
          `${fence}yaml`,
          "a: 1",
          fence,
          "<!-- readme-test: frobnicate -->",
          `${fence}json`,
          "{}",
          fence,
          "<!-- readme-test: output -->",
          `${fence}text`,
          "orphan",
          fence,
        ].join("\n"),
      ),
    );
    expect(plan.problems).toEqual([
      "README.md:6 ```yaml block is not exercised (give it a readme-test directive, see test/readme/readme.test.ts)",
      'README.md:10 ```json block has an unknown directive "readme-test: frobnicate"',
      "README.md:14 ```text block is an output block, but the block before it in its section is no command or program without one",
    ]);
    expect(plan.sections.map((s) => s.steps.map((step) => step.kind))).toEqual([["shell"]]);
  });

  it("gives an output block to the last command of the block before it", () => {
    const plan = planReadme(
      parseReadme(["## A", `${fence}sh`, "B=1", "echo $B", fence, "", "<!-- readme-test: output -->", "", `${fence}text`, "1", fence].join("\n")),
    );
    expect(plan.problems).toEqual([]);
    const [step] = plan.sections[0]!.steps;
    expect(step?.kind === "shell" && step.commands.map((c) => [c.text, c.expected])).toEqual([
      ["B=1", undefined],
      ["echo $B", ["1"]],
    ]);
  });
});

describe("splitting a sh block into commands", () => {
  it("joins continuation lines and open quotes, and takes JSON comments as output, prose comments not", () => {
    const commands = parseShell(
      [
        "# prose",
        "curl -s a \\",
        "  -d '{\"x\":1}'   # {\"ok\":true}",
        "node -e 'one();",
        "two(\"#not a comment\")'",
        '# ["next line"]',
        "echo '#' done   # just prose",
      ].join("\n"),
      10,
    );
    expect(commands).toEqual([
      { text: "curl -s a \\\n  -d '{\"x\":1}'", line: 11, expected: ['{"ok":true}'] },
      { text: "node -e 'one();\ntwo(\"#not a comment\")'", line: 13, expected: ['["next line"]'] },
      { text: "echo '#' done", line: 16 },
    ]);
  });

  it("splits on && outside quotes only", () => {
    expect(andParts("npm ci && npm start")).toEqual(["npm ci", "npm start"]);
    expect(andParts("echo 'a && b' && true")).toEqual(["echo 'a && b'", "true"]);
  });
});

describe("comparing output with the README", () => {
  it("compares JSON structurally, with … only where the README puts it", () => {
    expect(jsonMatches({ a: 1, b: "…" }, { b: "anything", a: 1 })).toBe(true);
    expect(jsonMatches({ id: "wh_…" }, { id: "wh_123" })).toBe(true);
    expect(jsonMatches({ id: "wh_…" }, { id: "x_123" })).toBe(false);
    expect(jsonMatches({ a: 1 }, { a: 2 })).toBe(false);
    expect(jsonMatches({ a: 1 }, { a: 1, more: true })).toBe(false);
    expect(jsonMatches({ a: 1, "…": "…" }, { a: 1, more: true })).toBe(true);
    expect(jsonMatches({ a: "…" }, { a: 3 })).toBe(false);
    expect(jsonMatches([1, 2], [1, 2, 3])).toBe(false);
  });

  it("matches lines exactly, JSON after the same prefix, and a stream by its first lines", () => {
    const sse = ["retry: 2000", "", "id: 1", 'data: {"offset":1,"time":"…"}'];
    const printed = 'retry: 2000\n\nid: 1\ndata: {"time":"2026-01-01T00:00:00Z","offset":1}\n\nid: 2\ndata: {"off';
    expect(compareOutput(sse, printed, false)).toBe("same");
    // Ended with more than the README shows: not what it shows.
    expect(compareOutput(sse, printed, true)).toBe("different");
    // A stream is different as soon as a complete line is.
    expect(compareOutput(["retry: 2000", "", "id: 2"], printed, false)).toBe("different");
    // Half a line is not yet a line.
    expect(compareOutput(sse, 'retry: 2000\n\nid: 1\ndata: {"offset":1,', false)).toBe("so far");
    expect(compareOutput(["1 false", "1 1999n"], "1 false\n1 1999n\n", true)).toBe("same");
    expect(compareOutput(["1 false", "1 1999n"], "1 false\n1 2000n\n", true)).toBe("different");
    expect(compareOutput(["1 false", "1 1999n"], "1 false\n", true)).toBe("different");
  });
});
