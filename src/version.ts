import { createRequire } from "node:module";

/** The streamgate package's version: the same path from src/ and dist/. */
export const VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
