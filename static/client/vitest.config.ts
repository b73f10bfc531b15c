import { defineConfig } from "vitest/config";

// dist/ is rebuilt before the tests (test/global-setup.ts).
// Each test builds its own jsdom window (test/helpers.ts) so that listeners and patched
// history methods never leak from one test into the next.
export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
  },
});
