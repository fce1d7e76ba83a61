import { chooseModel, expect, signIn, snap, test } from './fixtures';
import { visibleText } from './wire';

/**
 * Error paths against the real stack, with faults injected into the local AWS endpoint's
 * control API (`/_portico/faults`), so the services and the BFF run their real error handling.
 */
const LOCALAWS = process.env['PORTICO_E2E_LOCALAWS'] ?? 'http://localhost:4566';
const MODEL = 'amazon.titan-text-express-v1';

test.describe('errors in plain language', () => {
  // The faults are set on the shared local AWS endpoint for one model and cleared after each
  // test, so these tests never run at the same time, even when everything else does.
  test.describe.configure({ mode: 'default' });

  test.afterEach(async ({ request }) => {
    await request.delete(`${LOCALAWS}/_portico/faults`);
  });

  async function chooseTitan(page: import('@playwright/test').Page) {
    await chooseModel(page, MODEL);
  }

  test('throttling says to try again, and trying again works', async ({ page, request }) => {
    const res = await request.post(`${LOCALAWS}/_portico/faults`, { data: { target: MODEL, fault: 'throttle' } });
    expect(res.status()).toBe(204);
    await signIn(page, 'alice', '/chat');
    await chooseTitan(page);
    await page.getByTestId('composer-input').fill('Hello while busy');
    await expect(page.getByTestId('send-button')).toBeEnabled();
    await page.getByTestId('composer-input').press('Enter');
    const banner = page.getByTestId('error-banner').last();
    await expect(banner).toHaveAttribute('data-kind', 'throttled', { timeout: 30_000 });
    await expect(banner).toContainText('Try again');
    await snap(page, '10-error-throttled');

    await request.delete(`${LOCALAWS}/_portico/faults`);
    await banner.getByTestId('error-retry').click();
    await expect(page.locator('[data-testid="chat-message"][data-role="assistant"]').last()).toHaveAttribute(
      'data-status',
      'done',
      { timeout: 30_000 },
    );
    await expect(page.getByTestId('error-banner')).toHaveCount(0);
  });

  test('a dropped stream keeps the partial answer and offers a retry', async ({ page, request }) => {
    // The local model streams one event per word after messageStart; cut after 8 events, the
    // browser has the answer's first 7 words: "## About Tell me about dropped\n\nThis".
    const res = await request.post(`${LOCALAWS}/_portico/faults`, {
      data: { target: MODEL, fault: 'cut', afterEvents: 8 },
    });
    expect(res.status()).toBe(204);
    await signIn(page, 'alice', '/chat');
    await chooseTitan(page);
    await page.getByTestId('composer-input').fill('Tell me about dropped connections');
    await expect(page.getByTestId('send-button')).toBeEnabled();
    await page.getByTestId('composer-input').press('Enter');
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
    await expect(answer).toHaveAttribute('data-status', 'error', { timeout: 30_000 });
    const content = answer.getByTestId('message-content');
    await expect(content.locator('h2')).toHaveText('About Tell me about dropped');
    const partial = await visibleText(content);
    expect(partial).toBe('About Tell me about dropped This');
    // Marked as interrupted, on the message and in the banner.
    await expect(answer.getByTestId('message-error')).toContainText('Answer interrupted');
    await expect(page.getByTestId('error-banner').last()).toHaveAttribute('data-kind', 'stream-dropped');
    await expect(page.getByTestId('error-banner').last()).toContainText('Answer interrupted');
    await expect(page.getByTestId('error-retry').last()).toBeVisible();
    await snap(page, '11-error-stream-dropped');

    // Without the fault, the same prompt's whole answer begins with the partial one.
    await request.delete(`${LOCALAWS}/_portico/faults`);
    await page.getByTestId('error-retry').last().click();
    await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
    await expect(page.getByTestId('error-banner')).toHaveCount(0);
    const full = await visibleText(content);
    expect(full.startsWith(partial), `${JSON.stringify(full)} starts with the partial answer`).toBe(true);
    expect(full.length).toBeGreaterThan(partial.length);
  });
});
