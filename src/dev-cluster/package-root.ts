import { fileURLToPath } from "node:url";

/** The package root: this file is src/dev-cluster/*.ts in a clone, dist/dev-cluster/*.js once built. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Whether this code runs from the TypeScript sources (a clone, the tests) rather than a build. */
export const RUNNING_FROM_SOURCES = import.meta.url.endsWith(".ts");
