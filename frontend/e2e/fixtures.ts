import { test as base, expect, type Page } from '@playwright/test';
import path from 'node:path';

/** The password of every dev IdP user. */
export const PASSWORD = process.env['PORTICO_E2E_PASSWORD'] ?? 'portico-dev';

/** Where screenshots of the main screens are kept as test artifacts. */
export const SCREENSHOTS = path.join(__dirname, '..', 'test-results', 'screenshots');

/** The BFF's address (the app's origin), as in playwright.config.ts. */
export const APP = process.env['PORTICO_E2E_URL'] ?? 'http://localhost:8080';

/** The dev IdP's address (DESIGN.md's fixed dev interfaces). */
export const IDP = process.env['PORTICO_E2E_IDP'] ?? 'http://localhost:9000';

/** The dev users' names as services/dev/devidp/users.yaml gives them (given and family name). */
export const DISPLAY_NAMES: Record<string, string> = { alice: 'Alice Martin', dana: 'Dana Kim', bob: 'Bob Stone', carol: 'Carol Reyes' };

/**
 * The browser console errors a test may see, each matched exactly: the 401 of the signed-out
 * session probe (`GET /auth/session` on the app's origin), and the 404 of the favicon that
 * Chromium may probe on the dev IdP's origin while its login form shows (the IdP serves
 * none). The app serves its own favicon, so a 404 for it is a real error.
 */
export function expectedConsoleError(text: string, url: string): boolean {
  const failed = (status: number) => text === `Failed to load resource: the server responded with a status of ${status} (${statusText[status]})`;
  if (failed(401) && url === new URL('/auth/session', APP).href) return true;
  if (failed(404) && url === new URL('/favicon.ico', IDP).href) return true;
  return false;
}

const statusText: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found' };

/**
 * Collects a page's console errors (but those above) and uncaught exceptions; check the list
 * is empty at the end of the test.
 */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url ?? '';
    if (expectedConsoleError(msg.text(), where)) return;
    problems.push(`console error: ${msg.text()} (${where})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

/** A page that fails the test on any console error (but those above) or uncaught exception. */
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const problems = watchConsole(page);
    await use(page);
    expect(problems, 'no console errors').toEqual([]);
  },
});

export { expect };

/** Signs in through the BFF and the dev IdP's login form, landing back on the app as the user's name. */
export async function signIn(page: Page, username: string, path = '/'): Promise<void> {
  await page.goto(path);
  await expect(page.getByTestId('sign-in-page')).toBeVisible();
  await page.getByTestId('sign-in-button').click();
  const user = page.locator('input[name="username"]');
  await expect(user).toBeVisible();
  await user.fill(username);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('input[name="password"]').press('Enter');
  await expect(page.getByTestId('user-menu')).toBeVisible();
  const name = DISPLAY_NAMES[username];
  if (name) await expect(page.getByTestId('user-name')).toHaveText(name);
}

/** Saves a full-page screenshot of a main screen. */
export async function snap(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * Picks a model in the chat's model picker. The picker is disabled while the chat loads its
 * models and conversation, and a click then opens nothing: the click is repeated until the
 * option shows.
 */
export async function chooseModel(page: Page, modelId: string): Promise<void> {
  const option = page.locator(`[data-testid="model-option"][data-model-id="${modelId}"]`);
  await expect(async () => {
    if (!(await option.isVisible())) await page.getByTestId('model-select').click();
    await expect(option).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await option.click();
}
