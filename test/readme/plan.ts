/**
 * What the test does with each README block: the directive vocabulary (documented in
 * readme.test.ts) turned into steps. A block nothing here knows how to exercise is a problem,
 * reported by its line, so a block added later cannot go untested.
 */
import { where, type Block, type Section } from "./readme-blocks.js";
import { parseShell, ShellSyntaxError, type ShellCommand } from "./shell-commands.js";

export type Step =
  /** Commands run one by one with bash; `skip` names commands only checked; `project`: in a fresh project. */
  | { kind: "shell"; block: Block; commands: ShellCommand[]; skip: string[]; project: boolean }
  /** A whole program: python3, or node through tsx; `expected` from an output block after it. */
  | { kind: "program"; block: Block; runtime: "python" | "node"; expected?: string[] }
  /** Appended to `path` in the working copy. */
  | { kind: "file"; block: Block; path: string }
  /** Part of the file at `path` (whitespace and comments aside). */
  | { kind: "excerpt"; block: Block; path: string }
  /** A gateway configuration: checked, then it configures the section's gateway. */
  | { kind: "config"; block: Block }
  /** Run in a chromium page against the section's gateway. */
  | { kind: "browser"; block: Block };

export interface SectionPlan {
  section: Section;
  steps: Step[];
}

export interface Plan {
  sections: SectionPlan[];
  /** One line per block the plan cannot exercise ("README.md:123 ```ts block is not exercised"). */
  problems: string[];
}

const SHELL = new Set(["sh", "bash", "shell"]);
const NODE = new Set(["ts", "typescript", "js", "javascript"]);
const PYTHON = new Set(["python", "py"]);

export function planReadme(sections: Section[]): Plan {
  const problems: string[] = [];
  const planned = sections.map((section) => {
    const steps: Step[] = [];
    /** The step of the block just before, which an output block belongs to. */
    let previous: Step | undefined;
    for (const block of section.blocks) {
      try {
        const step = stepFor(block, previous);
        if (step) steps.push(step);
        previous = step;
      } catch (err) {
        if (!(err instanceof PlanError)) throw err;
        problems.push(`${where(block)} ${err.message}`);
        previous = undefined;
      }
    }
    return { section, steps };
  });
  return { sections: planned, problems };
}

class PlanError extends Error {}

function commandsOf(block: Block): ShellCommand[] {
  let commands: ShellCommand[];
  try {
    commands = parseShell(block.text, block.line + 1);
  } catch (err) {
    if (err instanceof ShellSyntaxError) throw new PlanError(err.message);
    throw err;
  }
  if (commands.length === 0) throw new PlanError("has no command to run");
  return commands;
}

/** The step for one block; undefined when the block was folded into the previous step (output). */
function stepFor(block: Block, previous: Step | undefined): Step | undefined {
  const [word, ...args] = block.directive ?? [];
  const needArg = () => {
    if (args.length !== 1) throw new PlanError(`has "readme-test: ${word}" without the one path it takes`);
    return args[0]!;
  };
  switch (word) {
    case undefined:
      if (SHELL.has(block.lang)) return { kind: "shell", block, commands: commandsOf(block), skip: [], project: false };
      if (PYTHON.has(block.lang)) return { kind: "program", block, runtime: "python" };
      if (NODE.has(block.lang)) return { kind: "program", block, runtime: "node" };
      throw new PlanError("is not exercised (give it a readme-test directive, see test/readme/readme.test.ts)");
    case "file":
      return { kind: "file", block, path: needArg() };
    case "excerpt":
      return { kind: "excerpt", block, path: needArg() };
    case "config":
      if (block.lang !== "json") throw new PlanError('has "readme-test: config", which takes a json block');
      return { kind: "config", block };
    case "browser":
      if (!NODE.has(block.lang)) throw new PlanError('has "readme-test: browser", which takes a js or ts block');
      return { kind: "browser", block };
    case "skip":
    case "project": {
      if (!SHELL.has(block.lang)) throw new PlanError(`has "readme-test: ${word}", which takes a sh block`);
      const skip = word === "skip" ? args.join(" ").split(",").map((s) => s.trim()).filter(Boolean) : [];
      if (word === "skip" && skip.length === 0) throw new PlanError('has "readme-test: skip" naming no command');
      return { kind: "shell", block, commands: commandsOf(block), skip, project: word === "project" };
    }
    case "output": {
      const lines = block.text.split("\n");
      const last = previous?.kind === "shell" ? previous.commands.at(-1) : previous?.kind === "program" ? previous : undefined;
      if (last && last.expected === undefined) last.expected = lines;
      else throw new PlanError("is an output block, but the block before it in its section is no command or program without one");
      return undefined;
    }
    default:
      throw new PlanError(`has an unknown directive "readme-test: ${block.directive!.join(" ")}"`);
  }
}
