import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Workflows spawn real child processes, and a user's CI machine is often busy: node alone can
    // take seconds to start there. These limits are only backstops against a hang; no test may
    // depend on finishing quickly.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: "forks",
  },
});
