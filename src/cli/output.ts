/** How the client commands print: tables and field lists for people, JSON for scripts. */

/** Columns padded to their widest cell, two spaces apart; the header row first. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** "name: value" lines with the values aligned; an empty name continues the line above. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([name]) => name.length)) + 1;
  return pairs.map(([name, value]) => `${(name && `${name}:`).padEnd(width)} ${value}`.trimEnd()).join("\n");
}

/** An answer of the API, for --json. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
