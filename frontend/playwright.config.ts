import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests against the real `make dev` stack (no mocks). The BFF's CSP is active.
 * When nothing answers on the BFF's address, Playwright starts the stack itself with the dev
 * launcher (a fresh SQLite store in a temporary folder) and stops it afterwards; in CI it
 * always starts its own. PORTICO_E2E_URL overrides the address; CHROMIUM_PATH the browser
 * (Debian's chromium).
 */
const baseURL = process.env['PORTICO_E2E_URL'] ?? 'http://localhost:8080';

/** The specs that change the shared policy: run alone, after every other spec (see projects). */
export const GOVERNANCE = /governance\.spec\.ts$/;
const storeDir = mkdtempSync(join(tmpdir(), 'portico-e2e-'));

export default defineConfig({
  webServer: {
    command: 'go run ./services/dev/cmd/portico-dev',
    cwd: '..',
    url: `${baseURL}/healthz`,
    reuseExistingServer: !process.env['CI'],
    timeout: 600_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: { PORTICO_STORE: `sqlite:${join(storeDir, 'portico.db')}` },
  },
  testDir: './e2e',
  outputDir: './test-results/artifacts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // Spec files run two at a time against the one stack; a file's tests run in order. The
  // specs' numbers hold while others run: dana and Claude Sonnet 4 belong to dana.spec alone,
  // pages are checked against the responses they rendered, and alice's usage is measured as
  // a delta that is retaken when another spec's request landed in between.
  fullyParallel: false,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env['CI'],
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  // governance.spec.ts changes the policy of everyone in MLUsers (alice's quota), which the
  // other specs use at the same time: it runs in its own project, alone, after all of them.
  projects: [
    { name: 'chromium', testMatch: /.*\.spec\.ts/, testIgnore: GOVERNANCE },
    { name: 'governance', testMatch: GOVERNANCE, dependencies: ['chromium'] },
    { name: 'bench', testMatch: /.*\.bench\.ts/ },
  ],
});
