import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import base, { GOVERNANCE } from './playwright.config';

/**
 * The Entra-mode end-to-end run: the same real stack with `make dev IDENTITY=entra` (the dev
 * IdP shaped like Microsoft Entra ID v2.0, the services' Entra token profile, the BFF's Entra
 * scopes and RP-initiated logout): the whole suite (*.spec.ts, provider-neutral) and the spec
 * written for Entra's sign-out (*.entra.ts). It starts its own stack, never an already running
 * one: that one would be in Cognito mode.
 */
const storeDir = mkdtempSync(join(tmpdir(), 'portico-e2e-entra-'));

export default defineConfig({
  ...base,
  webServer: {
    ...(base.webServer as object),
    command: 'go run ./services/dev/cmd/portico-dev -identity entra',
    reuseExistingServer: false,
    env: { PORTICO_STORE: `sqlite:${join(storeDir, 'portico.db')}`, PORTICO_IDP_DATA_DIR: join(storeDir, 'idp') },
  },
  outputDir: './test-results/entra-artifacts',
  reporter: [['list']],
  projects: [
    { name: 'entra', testMatch: /.*\.(spec|entra)\.ts/, testIgnore: GOVERNANCE },
    { name: 'entra-governance', testMatch: GOVERNANCE, dependencies: ['entra'] },
  ],
});
