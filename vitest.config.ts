import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql ships CJS (main) and ESM (module) builds. Node loads the CJS one for Pothos and
    // yoga; without this alias vite would hand test code the ESM one, and graphql refuses
    // to mix types "from another module or realm".
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
    // Bounds that only catch hangs: real processes, sockets and databases take several times
    // longer on a loaded 2-core machine than on an idle one (CI may be either).
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
