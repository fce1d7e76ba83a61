import { expect, signIn, snap, test } from './fixtures';

test('bob (no ML group) sees the no-access page', async ({ page }) => {
  await signIn(page, 'bob');
  await expect(page.getByTestId('no-access-page')).toBeVisible();
  await expect(page.getByTestId('no-access-page')).toContainText('You have no access yet');
  await expect(page.getByTestId('no-access-page')).toContainText('You are signed in as Bob Stone,');
  await expect(page.getByTestId('nav-chat')).toHaveCount(0);
  await page.goto('/chat');
  await expect(page.getByTestId('no-access-page')).toBeVisible();
  await snap(page, '07-no-access');
});
