// Fix-ups applied to ts-proto's output by `streamgate codegen`, `npm run codegen` and tests that generate code.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * ts-proto skips a float or double field whose value is `!== 0`, which drops -0 (a value proto3
 * keeps: it is not the default +0). One narrow rewrite of that test, until ts-proto does it.
 */
export function keepNegativeZero(dir: string): void {
  const skipsZero = /if \(message\.(\w+) !== 0\) \{(\n\s+writer\.uint32\(\d+\)\.(?:double|float)\()/g;
  for (const path of tsFiles(dir)) {
    const source = readFileSync(path, "utf8");
    const fixed = source.replace(skipsZero, "if (message.$1 !== 0 || Object.is(message.$1, -0)) {$2");
    if (fixed !== source) writeFileSync(path, fixed);
  }
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}
