/**
 * A README sh block split into the commands a reader types: a command goes on over lines ending
 * in `\` and over quotes left open. A `# {...}` or `# [...]` comment, trailing the command or on
 * the line right after it, is what the command prints (JSON); other comments are prose.
 */

export interface ShellCommand {
  /** The command as bash gets it (continuation lines kept), without its trailing comment. */
  text: string;
  /** README line it starts on. */
  line: number;
  /** What it prints, line by line (see expected-output.ts); undefined when the README does not say. */
  expected?: string[];
}

type Quote = "'" | '"' | undefined;

/**
 * Walks `text` as bash quotes it, from the quote open at its start, calling `visit` with the
 * index of each character outside quotes and escapes until it returns true. Returns where it
 * stopped (undefined: at the end) and the quote open there.
 */
function walkUnquoted(text: string, open: Quote, visit: (i: number) => boolean): { stop: number | undefined; open: Quote } {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (open === "'") {
      if (c === "'") open = undefined;
    } else if (open === '"') {
      if (c === "\\") i++;
      else if (c === '"') open = undefined;
    } else if (c === "\\") i++;
    else if (c === "'" || c === '"') open = c;
    else if (visit(i)) return { stop: i, open };
  }
  return { stop: undefined, open };
}

const OUTPUT_COMMENT = /^#\s*([[{].*)$/;

export function parseShell(text: string, firstLine: number): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let current: { lines: string[]; line: number; open: Quote } | undefined;
  /** The command just finished, which the next line may give an output comment. */
  let justEnded: ShellCommand | undefined;
  text.split("\n").forEach((raw, index) => {
    const trimmed = raw.trim();
    if (!current && (trimmed === "" || trimmed.startsWith("#"))) {
      const output = OUTPUT_COMMENT.exec(trimmed)?.[1];
      if (output !== undefined && justEnded && justEnded.expected === undefined) justEnded.expected = [output];
      justEnded = undefined;
      return;
    }
    current ??= { lines: [], line: firstLine + index, open: undefined };
    const { stop: comment, open } = walkUnquoted(raw, current.open, (i) => raw[i] === "#" && (i === 0 || /\s/.test(raw[i - 1]!)));
    const code = comment === undefined ? raw : raw.slice(0, comment).trimEnd();
    current.lines.push(code);
    current.open = open;
    if (open !== undefined || code.endsWith("\\")) return;
    const command: ShellCommand = { text: current.lines.join("\n"), line: current.line };
    const output = comment === undefined ? undefined : OUTPUT_COMMENT.exec(raw.slice(comment))?.[1];
    if (output !== undefined) command.expected = [output];
    commands.push(command);
    justEnded = command;
    current = undefined;
  });
  if (current) throw new ShellSyntaxError(`has a command at README.md:${current.line} that never ends (an open quote or a trailing \\)`);
  return commands;
}

export class ShellSyntaxError extends Error {}

/**
 * The parts of `command` joined by `&&` at its top level (outside quotes), e.g. `npm ci` and
 * `npm start` in `npm ci && npm start`.
 */
export function andParts(command: string): string[] {
  const parts: string[] = [];
  let start = 0;
  walkUnquoted(command, undefined, (i) => {
    if (command.startsWith("&&", i)) {
      parts.push(command.slice(start, i).trim());
      start = i + 2;
    }
    return false;
  });
  parts.push(command.slice(start).trim());
  return parts;
}
