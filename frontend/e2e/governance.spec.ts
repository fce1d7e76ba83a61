import { readFile } from 'node:fs/promises';
import type { Browser, Page } from '@playwright/test';
import { APP, expect, expectedConsoleError, signIn, snap, test } from './fixtures';
import { callApi, getMessage, nextOutcome, parseCsv, quotaExceededOf, type StreamError } from './wire';

/**
 * Governance at run time (issue 15's "Done when"): dana, a policy admin, lowers MLUsers'
 * tokens per day in the app; alice's next request is refused with the new limit; dana rolls
 * back and alice works again; the audit trail shows both changes; alice sees the 80 % banner
 * when she passes it; usage breaks down and filters by department.
 *
 * This spec changes the policy everyone in MLUsers runs under, so it runs in its own project
 * after every other spec (playwright.config.ts), and puts the policy back as it found it.
 */

/** How soon every instance must apply a new policy version. */
const APPLY_WITHIN_MS = 10_000;

const ADMIN = 'portico.admin.v1.AdminService';
const INFERENCE = 'portico.inference.v1.InferenceService';
const IDENTITY = 'portico.identity.v1.IdentityService';

interface QuotaStatusJson {
  limit?: { subject?: string; window?: string; unit?: string; limit?: string };
  used?: string;
  remaining?: string;
}

/** A count as the app formats it (en-US, as the config sets the browser's locale). */
const fmt = (n: bigint | number) => new Intl.NumberFormat('en-US').format(n);

/** Alice's personal tokens-per-day quota, as GetUsage reports it. */
async function tokensPerDay(page: Page): Promise<{ used: bigint; limit: bigint }> {
  const res = (await callApi(page, `${INFERENCE}/GetUsage`, {})) as { quotas?: QuotaStatusJson[] };
  const q = (res.quotas ?? []).find(
    (x) => x.limit?.subject === 'QUOTA_SUBJECT_USER' && x.limit?.window === 'QUOTA_WINDOW_DAY' && x.limit?.unit === 'QUOTA_UNIT_TOKENS',
  );
  expect(q, 'alice has a tokens-per-day quota').toBeDefined();
  return { used: BigInt(q!.used ?? '0'), limit: BigInt(q!.limit?.limit ?? '0') };
}

/** Opens a second signed-in browser (its own cookies) that fails the test on console errors. */
async function openAs(browser: Browser, user: string, path: string, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ baseURL: APP, viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !expectedConsoleError(msg.text(), msg.location().url ?? '')) problems.push(`${user}: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`${user}: page error: ${err.message}`));
  await signIn(page, user, path);
  return page;
}

/** Sends a chat message as alice and returns how it ended. */
async function ask(page: Page, text: string): Promise<{ ok: boolean; error?: StreamError }> {
  const outcome = nextOutcome(page);
  await page.getByTestId('composer-input').fill(text);
  await expect(page.getByTestId('send-button')).toBeEnabled();
  await page.getByTestId('composer-input').press('Enter');
  const o = await outcome;
  const last = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
  await expect(last).toHaveAttribute('data-status', o.error ? 'error' : 'done');
  return o.error ? { ok: false, error: o.error } : { ok: true };
}

/**
 * Asks until the answer is as wanted (refused or answered), each attempt starting within
 * APPLY_WITHIN_MS of since: the policy change must reach the services by then.
 */
async function askUntil(page: Page, want: 'refused' | 'answered', since: number): Promise<StreamError | undefined> {
  for (let n = 1; ; n++) {
    expect(Date.now() - since, `alice's request ${want} within ${APPLY_WITHIN_MS / 1000} s of the change`).toBeLessThan(APPLY_WITHIN_MS);
    const o = await ask(page, `Governance check ${n}: what may I still use?`);
    if (want === 'refused' && !o.ok) return o.error;
    if (want === 'answered' && o.ok) return undefined;
    await page.waitForTimeout(500);
  }
}

/** Dana, on the policy page, sets MLUsers' tokens per day and saves; returns the version saved. */
async function setMLUsersTokensPerDay(dana: Page, limit: bigint, comment: string): Promise<{ version: number; was: string }> {
  await dana.goto('/admin/policy');
  const pageEl = dana.getByTestId('policy-page');
  await expect(pageEl).toBeVisible();
  await expect(dana.getByTestId('policy-version')).toBeVisible();
  const base = Number(await pageEl.getAttribute('data-version'));
  await dana.getByTestId('policy-edit').click();
  const card = dana.locator('[data-testid="group-card"][data-name="MLUsers"]');
  const input = card.getByTestId('quota-userTokensPerDay');
  const was = await input.inputValue();

  // A bad value: the server's own message shows at the field, and saving is blocked.
  await input.fill('-5');
  await expect(card.getByTestId('problem-userTokensPerDay')).toBeVisible();
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(dana.getByTestId('policy-problem-count')).toBeVisible();
  await expect(dana.getByTestId('policy-review-button')).toBeDisabled();

  await input.fill(String(limit));
  await expect(card.getByTestId('problem-userTokensPerDay')).toHaveCount(0);
  await expect(dana.getByTestId('policy-change-count')).toHaveText('1 change, valid');
  await dana.getByTestId('policy-review-button').click();
  const row = dana.getByTestId('diff-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Group MLUsers');
  await expect(row).toContainText('Tokens per person per day');
  await expect(row.getByTestId('diff-before')).toHaveText(was === '' ? 'no limit' : fmt(BigInt(was)));
  await expect(row.getByTestId('diff-after')).toHaveText(fmt(limit));
  await dana.getByTestId('policy-comment').fill(comment);
  await dana.getByTestId('policy-save').click();
  await expect(dana.getByTestId('policy-saved')).toContainText(`Saved as version ${base + 1}`);
  await expect(pageEl).toHaveAttribute('data-version', String(base + 1));
  return { version: base + 1, was };
}

test('dana governs the policy at run time; alice feels it within seconds', async ({ page: alice, browser }) => {
  test.setTimeout(240_000);
  const problems: string[] = [];
  await signIn(alice, 'alice', '/chat');
  await expect(alice.getByTestId('nav-policy')).toHaveCount(0);
  const aliceMe = (await callApi(alice, `${IDENTITY}/GetMe`, {})) as { principal?: { username?: string; department?: string }; policyAdmin?: boolean };
  expect(aliceMe.policyAdmin ?? false, 'alice is no policy admin').toBe(false);

  // Alice's usage today is enough for the 80 % step below to leave room for a small request.
  while ((await tokensPerDay(alice)).used < 1_000n) expect((await ask(alice, 'Warm up my usage for the governance check')).ok).toBe(true);

  const dana = await openAs(browser, 'dana', '/chat', problems);
  const danaMe = (await callApi(dana, `${IDENTITY}/GetMe`, {})) as { principal?: { username?: string }; policyAdmin?: boolean };
  expect(danaMe.policyAdmin, 'dana is a policy admin').toBe(true);
  await dana.getByTestId('nav-policy').click();
  await expect(dana.getByTestId('policy-page')).toBeVisible();
  // The page shows before the policy has loaded (version 0 until then).
  await expect(dana.getByTestId('policy-page')).not.toHaveAttribute('data-version', '0');
  const original = Number(await dana.getByTestId('policy-page').getAttribute('data-version'));
  expect(original).toBeGreaterThan(0);
  await expect(dana.locator('[data-testid="group-card"][data-name="MLUsers"]')).toBeVisible();
  await expect(dana.locator('[data-testid="scope-card"][data-name="portico/inference"]')).toBeVisible();
  await snap(dana, '12-policy');

  try {
    // 1. Dana lowers MLUsers' tokens per day to what alice has used: her next request is refused
    // with the new limit in its QuotaExceeded detail, and the app says so.
    const { used } = await tokensPerDay(alice);
    const lowered = await setMLUsersTokensPerDay(dana, used, 'e2e: lower MLUsers for the quota check');
    const savedAt = Date.now();
    await snap(dana, '13-policy-saved');
    const refusal = await askUntil(alice, 'refused', savedAt);
    expect(refusal!.code).toBe('resource_exhausted');
    const detail = quotaExceededOf(refusal!);
    expect(detail.limit, 'the QuotaExceeded detail carries the new limit').toBe(used);
    const banner = alice.getByTestId('error-banner').last();
    await expect(banner).toHaveAttribute('data-kind', 'quota');
    await expect(banner).toContainText('Quota reached');
    await expect(banner).toContainText(`${fmt(used)} tokens per day`);
    await snap(alice, '14-quota-refused');

    // 2. Dana rolls back to the version before her change: alice works again.
    await dana.getByRole('tab', { name: 'History' }).click();
    const mine = dana.locator(`[data-testid="history-row"][data-version="${lowered.version}"]`);
    await expect(mine.getByTestId('history-author')).toHaveText(danaMe.principal!.username!);
    await expect(mine.getByTestId('history-comment')).toContainText('e2e: lower MLUsers');
    await expect(mine.getByTestId('history-changes')).toContainText('Tokens per person per day');
    const previous = dana.locator(`[data-testid="history-row"][data-version="${original}"]`);
    await previous.getByTestId('rollback').click();
    await dana.getByTestId('rollback-comment').fill('e2e: put MLUsers back');
    await dana.getByTestId('rollback-go').click();
    await expect(dana.getByTestId('policy-saved')).toContainText(`Saved as version ${lowered.version + 1}`);
    const rolledBackAt = Date.now();
    const newest = dana.locator(`[data-testid="history-row"][data-version="${lowered.version + 1}"]`);
    await expect(newest.getByTestId('history-kind')).toHaveText(`Rolled back to version ${original}`);
    await expect(newest.getByTestId('history-current')).toBeVisible();
    await snap(dana, '15-policy-history');
    await askUntil(alice, 'answered', rolledBackAt);
    expect((await tokensPerDay(alice)).limit, 'the limit is back').toBe(BigInt(lowered.was));

    // 3. The audit trail shows both changes, by dana.
    await dana.getByTestId('nav-admin').click();
    await dana.getByRole('tab', { name: 'Audit trail' }).click();
    await expect(dana.getByTestId('audit-table')).toBeVisible();
    for (const call of ['UpdatePolicy', 'RollbackPolicy']) {
      const row = dana.getByTestId('audit-row').filter({ has: dana.getByTestId('audit-call').getByText(call, { exact: true }) }).first();
      await expect(row, `an audit record of ${call}`).toBeVisible();
      await expect(row.getByTestId('audit-user')).toHaveText(danaMe.principal!.username!);
      await expect(row.getByTestId('audit-outcome')).toHaveText('ok');
      await expect(row.getByTestId('audit-detail')).not.toBeEmpty();
    }
    const update = dana.getByTestId('audit-row').filter({ has: dana.getByTestId('audit-call').getByText('UpdatePolicy', { exact: true }) }).first();
    await expect(update.getByTestId('audit-detail')).toContainText('userTokensPerDay');
    await snap(dana, '16-audit-policy');

    // 4. The 80 % banner: with the limit set so alice's usage is 85 % of it, her next request
    // (a small endpoint call) passes 80 %; the banner says what is left and when it resets,
    // and dismissing it holds for this threshold and window.
    const now = (await tokensPerDay(alice)).used;
    const limit80 = (now * 100n + 84n) / 85n;
    await setMLUsersTokensPerDay(dana, limit80, 'e2e: 80 % banner check');
    const setAt = Date.now();
    await alice.getByTestId('nav-endpoints').click();
    const alert = alice.locator('[data-testid="quota-alert"][data-threshold="80"]');
    for (let n = 1; !(await alert.isVisible()); n++) {
      expect(Date.now() - setAt, 'the banner within 10 s of the change').toBeLessThan(APPLY_WITHIN_MS);
      await alice.getByTestId('payload-input').fill(`{"inputs": "Hi ${n}", "parameters": {"max_new_tokens": 8}}`);
      await alice.getByTestId('endpoint-send').click();
      await expect(alice.getByTestId('endpoint-status-chip')).toHaveText(/OK/, { timeout: 30_000 });
      await alert.waitFor({ state: 'visible', timeout: 3_000 }).catch(() => undefined);
    }
    const me = (await callApi(alice, `${IDENTITY}/GetMe`, {})) as { alerts?: { status?: QuotaStatusJson; thresholdPercent?: number }[] };
    const a = (me.alerts ?? []).find((x) => x.status?.limit?.unit === 'QUOTA_UNIT_TOKENS' && x.status?.limit?.window === 'QUOTA_WINDOW_DAY');
    expect(a?.thresholdPercent, 'GetMe reports the 80 % alert').toBe(80);
    const pct = (BigInt(a!.status!.used ?? '0') * 100n) / BigInt(a!.status!.limit!.limit!);
    await expect(alert.getByTestId('quota-alert-title')).toHaveText(`Your tokens per day: ${pct} % used`);
    await expect(alert.getByTestId('quota-alert-detail')).toContainText(`${fmt(BigInt(a!.status!.remaining ?? '0'))} tokens left until it resets`);
    await snap(alice, '17-quota-banner');
    await alert.getByTestId('quota-alert-dismiss').click();
    await expect(alert).toHaveCount(0);
    await alice.reload();
    await expect(alice.getByTestId('user-menu')).toBeVisible();
    await expect(alice.getByTestId('quota-alerts')).toBeAttached();
    await expect(alert, 'dismissed for this window').toHaveCount(0);

    // The admins' near-limit list has alice.
    await dana.goto('/admin/policy');
    await dana.getByRole('tab', { name: 'Near limit' }).click();
    await expect(dana.locator(`[data-testid="near-row"][data-who="${aliceMe.principal!.username!}"]`).first()).toBeVisible();
    await snap(dana, '18-near-limit');
  } finally {
    // Put the policy back as it was (its content as a new version), whatever happened above.
    const now = (await callApi(dana, `${ADMIN}/GetPolicy`, {})) as { version?: { version?: string } };
    if (Number(now.version?.version ?? '0') !== original) {
      await callApi(dana, `${ADMIN}/RollbackPolicy`, { version: String(original), baseVersion: now.version?.version, comment: 'e2e: restore' });
    }
  }

  // 5. Usage by department: rows per department, a filter, and the CSV's department column.
  // The department comes from the IdP's claim: custom:department in Cognito mode,
  // extn.department from the Entra-shaped dev IdP (PORTICO_DEPARTMENT_CLAIM).
  const department = aliceMe.principal?.department ?? '';
  expect(department, "the IdP shares alice's department").toBe('Research');
  await dana.getByTestId('nav-admin').click();
  await expect(dana.getByTestId('admin-usage-page')).toBeVisible();
  const byDepartment = waitForListUsage(dana, (m) => JSON.stringify(m.groupBy ?? []) === '["USAGE_DIMENSION_DEPARTMENT"]');
  await dana.getByTestId('group-by-user').click();
  await dana.getByTestId('group-by-department').click();
  const rows = ((await (await byDepartment).json()) as { rows?: { department?: string }[] }).rows ?? [];
  expect(rows.map((r) => r.department ?? ''), "a row for alice's department").toContain(department);
  await expect(dana.getByTestId('row-label')).toHaveText(rows.map((r) => r.department || '—'));

  if (department) {
    const filtered = waitForListUsage(dana, (m) => m.department === department);
    await dana.getByTestId('group-by-user').click();
    await dana.getByTestId('admin-department').fill(department);
    await dana.getByTestId('admin-department').dispatchEvent('change');
    await dana.getByTestId('admin-apply').click();
    const only = ((await (await filtered).json()) as { rows?: { user?: string; department?: string }[] }).rows ?? [];
    expect(only.map((r) => r.user), 'alice is in her department').toContain(aliceMe.principal!.username!);
    expect(only.map((r) => r.user), 'dana is not').not.toContain(danaMe.principal!.username!);
    expect(new Set(only.map((r) => r.department)), 'every row is of that department').toEqual(new Set([department]));
    await expect(dana.getByTestId('row-label')).toHaveText(only.map((r) => `${r.user} · ${r.department}`));
  }
  const shown = await dana.getByTestId('row-label').count();
  const download = dana.waitForEvent('download');
  await dana.getByTestId('export-csv').click();
  const csv = parseCsv(await readFile((await (await download).path())!, 'utf8'));
  expect(csv[0]!.slice(0, 4)).toEqual(['day', 'user', 'department', 'group']);
  expect(csv.length - 1, 'a CSV line per row shown').toBe(shown);
  if (department) expect(csv.slice(1).map((r) => r[2])).toEqual(csv.slice(1).map(() => department));
  else expect(csv.slice(1).map((r) => r[2])).toEqual(rows.map((r) => r.department ?? ''));
  await snap(dana, '19-usage-by-department');

  await dana.context().close();
  expect(problems, 'no console errors in dana\'s browser').toEqual([]);
});

/** Waits for the page's own ListUsage call whose request matches. */
function waitForListUsage(page: Page, match: (m: { groupBy?: string[]; department?: string }) => boolean) {
  return page.waitForResponse((r) => r.url().includes(`/${ADMIN}/ListUsage`) && match((getMessage(r) ?? {}) as never), { timeout: 15_000 });
}
