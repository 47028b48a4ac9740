/**
 * README.md as the test reads it: `## ` sections, each with its fenced code blocks in order, and
 * the `<!-- readme-test: ... -->` directive (if any) on the last non-blank line above a block.
 */

export interface Block {
  /** The fence's info string ("sh", "ts", "" when none). */
  lang: string;
  /** The lines between the fences, joined with "\n" (no trailing newline). */
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The directive's words, e.g. ["file", "tour.ts"]; undefined without one. */
  directive?: string[];
}

export interface Section {
  /** The `## ` heading's text ("(top)" before the first heading). */
  title: string;
  line: number;
  blocks: Block[];
}

const FENCE = /^```(\S*)\s*$/;
const DIRECTIVE = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;

export class ReadmeSyntaxError extends Error {}

/** What the README says and what the test saw disagree. */
export class ReadmeFailure extends Error {}

export function parseReadme(markdown: string): Section[] {
  const lines = markdown.split("\n");
  const sections: Section[] = [{ title: "(top)", line: 1, blocks: [] }];
  let lastNonBlank = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("## ")) {
      sections.push({ title: line.slice(3).trim(), line: i + 1, blocks: [] });
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
      if (i === lines.length) throw new ReadmeSyntaxError(`README.md:${start + 1}: the code block is never closed`);
      const directive = DIRECTIVE.exec(lastNonBlank)?.[1]?.split(/\s+/);
      sections.at(-1)!.blocks.push({ lang: fence[1]!, text: body.join("\n"), line: start + 1, ...(directive && { directive }) });
      lastNonBlank = "```";
      continue;
    }
    if (line.trim() !== "") lastNonBlank = line.trim();
  }
  return sections.filter((s) => s.blocks.length > 0);
}

/** `README.md:123 ```ts block`, how failures name a block. */
export function where(block: Block): string {
  return `README.md:${block.line} \`\`\`${block.lang} block`;
}
