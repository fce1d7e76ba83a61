import { expect, signIn, test } from './fixtures';
import { nextAnswer } from './wire';

/**
 * One pass through the stack in Entra mode (playwright.entra.config.ts): sign-in at the
 * Entra-shaped dev IdP, one streamed chat answer through the services' Entra token profile
 * (alice's group arrives as an object id and the dev policy's groupIds maps it), and logout
 * through the provider's end_session_endpoint back to the app.
 */
test('alice signs in at Entra, chats once and signs out through end_session_endpoint', async ({ page }) => {
  await signIn(page, 'alice', '/chat');
  await page.getByTestId('user-menu').click();
  // The services mapped the group object id to the policy's group name.
  await expect(page.getByTestId('user-group')).toContainText(['MLUsers']);
  await page.keyboard.press('Escape');

  const composer = page.getByTestId('composer-input');
  await composer.fill('Say hello from Entra mode');
  const received = nextAnswer(page);
  await composer.press('Enter');
  const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
  await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  const got = await received;
  expect(got.usage.outputTokens).toBeGreaterThan(0n);

  // RP-initiated logout: the browser passes the provider's end_session_endpoint and comes
  // back to /auth/signed-out, which checks the state and sends it home.
  const endSession = page.waitForRequest((r) => r.url().includes('/oauth2/logout?'));
  const signedOut = page.waitForRequest((r) => new URL(r.url()).pathname === '/auth/signed-out');
  await page.getByTestId('user-menu').click();
  await page.getByTestId('sign-out').click();
  const end = new URL((await endSession).url());
  expect(end.searchParams.get('post_logout_redirect_uri')).toMatch(/\/auth\/signed-out$/);
  expect(end.searchParams.get('id_token_hint')).toBeTruthy();
  expect(new URL((await signedOut).url()).searchParams.get('state')).toBe(end.searchParams.get('state'));
  await expect(page.getByTestId('sign-in-page')).toBeVisible({ timeout: 30_000 });
  await page.goto('/chat');
  await expect(page.getByTestId('sign-in-page')).toBeVisible();
});
