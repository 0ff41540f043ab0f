import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native addons (hnswlib, jieba) are happiest in forked processes.
    pool: "forks",
  },
});
