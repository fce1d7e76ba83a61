import { test as base, expect, type Page } from '@playwright/test';
import path from 'node:path';

/** The password of every dev IdP user. */
export const PASSWORD = process.env['PORTICO_E2E_PASSWORD'] ?? 'portico-dev';

/** Where screenshots of the main screens are kept as test artifacts. */
export const SCREENSHOTS = path.join(__dirname, '..', 'test-results', 'screenshots');

/**
 * A page that fails the test on any console error or uncaught exception. The one expected
 * browser message is the 401 of the signed-out session probe (`GET /auth/session`).
 */
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const where = msg.location().url ?? '';
      if (/status of 401/.test(msg.text()) && /\/auth\/session/.test(where + msg.text())) return;
      // Browsers may probe a favicon on the dev IdP's origin; a missing one is not the app's error.
      if (/status of 404/.test(msg.text()) && /favicon\.ico/.test(where)) return;
      problems.push(`console error: ${msg.text()} (${where})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await use(page);
    expect(problems, 'no console errors').toEqual([]);
  },
});

export { expect };

/** Signs in through the BFF and the dev IdP's login form, landing back on the app. */
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
}

/** Saves a full-page screenshot of a main screen. */
export async function snap(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
