import { defineConfig } from "@playwright/test";

// End-to-end tests in Debian's Chromium (no browser download) against a real datalab server
// (e2e/serve.sh: `manage.py serve` on a fresh data directory, with the built dashboard).
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
export const E2E_PORT = Number(env.E2E_PORT ?? 8190);
export const E2E_DATA_DIR = env.E2E_DATA_DIR ?? `/tmp/datalab-e2e-${E2E_PORT}`;

export default defineConfig({
  testDir: "./e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: "./e2e-results",
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    launchOptions: {
      executablePath: env.DATALAB_TEST_CHROMIUM || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    acceptDownloads: true,
    trace: "retain-on-failure",
  },
  webServer: {
    command: "bash e2e/serve.sh",
    url: `http://127.0.0.1:${E2E_PORT}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    env: { E2E_PORT: String(E2E_PORT), E2E_DATA_DIR },
  },
});
