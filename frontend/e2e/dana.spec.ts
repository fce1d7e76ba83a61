import { expect, signIn, snap, test } from './fixtures';

test('dana (Administrators) sees the admin usage view and the audit trail', async ({ page }) => {
  await signIn(page, 'dana');
  // Make sure there is some usage to show.
  const composer = page.getByTestId('composer-input');
  await composer.fill('Hello from dana');
  await composer.press('Enter');
  await expect(page.locator('[data-testid="chat-message"][data-role="assistant"]').last()).toHaveAttribute(
    'data-status',
    'done',
    { timeout: 30_000 },
  );

  await page.getByTestId('nav-admin').click();
  await expect(page.getByTestId('admin-usage-page')).toBeVisible();
  await expect(page.getByTestId('usage-table')).toBeVisible();
  await expect(page.getByTestId('usage-row').first()).toBeVisible();
  await expect(page.getByTestId('usage-chart')).toBeVisible();
  await page.getByTestId('group-by-modelId').click();
  await expect(page.getByTestId('usage-row').first()).toBeVisible();
  const download = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^portico-usage-.*\.csv$/);
  await snap(page, '08-admin-usage');

  await page.getByRole('tab', { name: 'Audit trail' }).click();
  await expect(page.getByTestId('audit-table')).toBeVisible();
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await snap(page, '09-admin-audit');
});
