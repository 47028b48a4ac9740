import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

/** Our packages resolve to their TypeScript sources in this repository (see their exports maps). */
const SOURCE_CONDITION = "@streamgate/source";

export default defineConfig({
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
  test: {
    // Unit tests sit beside the code they test; the black-box suites live under test/.
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "protocol/src/**/*.test.ts", "clients/src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every test file starts its own nats-server; two cores run two files at a time well.
    maxWorkers: 2,
    pool: "forks",
    // Child processes (gateways under tsx, the CLI) resolve our packages the same way.
    env: { NODE_OPTIONS: `--conditions=${SOURCE_CONDITION}` },
  },
});
