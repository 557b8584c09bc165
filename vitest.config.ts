import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real local servers and child processes; two cores on CI machines.
    pool: "forks",
    // Most of a test's time is spent waiting on those servers and processes, not on the CPU, so
    // more files than cores run at once: on 2 cores the default (one file at a time) took 240 s
    // for the suite, four at once 154 s, three at once about as fast with less contention for the
    // timing-sensitive tests.
    maxWorkers: 3,
  },
});
