import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Workflows spawn real child processes; a 2-core machine needs room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
