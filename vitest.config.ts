import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every test file starts its own nats-server; two cores run two files at a time well.
    maxWorkers: 2,
    pool: "forks",
  },
});
