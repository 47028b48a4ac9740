import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT, RUNNING_FROM_SOURCES } from "./package-root.js";

const SOURCE_CONDITION = "@streamgate/source";

/**
 * The node arguments that run `streamgate serve` as this code runs: from the sources (a clone,
 * tests) through tsx with the source condition, else the installed package's own bin.
 */
export function gatewayServeArgs(): string[] {
  if (!RUNNING_FROM_SOURCES) return [join(PACKAGE_ROOT, "bin", "streamgate.js"), "serve"];
  // tsx is a development dependency: only a clone runs from the sources.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return [`--conditions=${SOURCE_CONDITION}`, "--import", tsx, join(PACKAGE_ROOT, "src", "cli", "main.ts"), "serve"];
}
