import { readFile } from 'node:fs/promises';
import type { Locator, Page, Response } from '@playwright/test';
import { DISPLAY_NAMES, chooseModel, expect, signIn, snap, test } from './fixtures';
import {
  callApi,
  countOf,
  decimalNanos,
  expectMoney,
  getMessage,
  leadingCount,
  nextAnswer,
  parseCsv,
  plus,
  show,
  totalsOf,
  utcDay,
  ZERO,
  type Totals,
} from './wire';

/**
 * The admin usage view's numbers are checked against the request this spec makes. Only this
 * spec signs in as dana, and only administrators may use Claude Sonnet 4, so dana's row (by
 * user) and Sonnet 4's row (by model) change by exactly that request even while other specs
 * run; everything else on the page is checked against the response the page itself rendered.
 */
const SONNET_4 = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const USER = 'USAGE_DIMENSION_USER';
const MODEL = 'USAGE_DIMENSION_MODEL';
const CSV_HEADER = 'day,user,department,group,model_id,requests,errors,input_tokens,output_tokens,total_tokens,estimated_cost,currency';

interface UsageRowJson {
  day?: string;
  user?: string;
  group?: string;
  modelId?: string;
  totals?: unknown;
}
interface ListUsageJson {
  rows?: UsageRowJson[];
  totals?: unknown;
}

test('dana (Administrators) sees the admin usage view and the audit trail', async ({ page }) => {
  await signIn(page, 'dana', '/chat');
  await expect(page.getByTestId('user-name')).toHaveText(DISPLAY_NAMES['dana']!);

  // The page's default range: the last 30 days, in UTC.
  const range = { startDay: utcDay(29), endDay: utcDay() };
  const rowOf = (res: ListUsageJson, key: 'user' | 'modelId', v: string) => totalsOf(res.rows?.find((r) => r[key] === v)?.totals ?? {});
  const listUsage = async (groupBy: string[]) =>
    (await callApi(page, 'portico.admin.v1.AdminService/ListUsage', { ...range, groupBy })) as ListUsageJson;
  // The name the services meter her under: `dana` with Cognito-shaped tokens, her
  // preferred_username in Entra mode (the same spec runs in both).
  const me = (await callApi(page, 'portico.identity.v1.IdentityService/GetMe', {})) as { principal?: { username?: string } };
  const dana = me.principal?.username ?? '';
  expect(dana, 'GetMe names the caller').not.toBe('');
  const danaBefore = rowOf(await listUsage([USER]), 'user', dana);
  const sonnetBefore = rowOf(await listUsage([MODEL]), 'modelId', SONNET_4);

  await chooseModel(page, SONNET_4);
  const received = nextAnswer(page);
  await page.getByTestId('composer-input').fill('Hello from dana');
  await expect(page.getByTestId('send-button')).toBeEnabled();
  await page.getByTestId('composer-input').press('Enter');
  const mine = await received;
  expect(mine.modelId).toBe(SONNET_4);
  await expect(page.locator('[data-testid="chat-message"][data-role="assistant"]').last()).toHaveAttribute('data-status', 'done');

  // By user (the default): every row and the totals as the page was told; dana's row is her
  // usage before plus this request.
  const byUserRes = waitForListUsage(page, [USER]);
  await page.getByTestId('nav-admin').click();
  await expect(page.getByTestId('admin-usage-page')).toBeVisible();
  const byUser = (await (await byUserRes).json()) as ListUsageJson;
  const userRows = await expectRows(page, byUser, (r) => r.user ?? '');
  expect(userRows.get(dana), 'dana: before + this request').toEqual(show(plus(danaBefore, mine.usage)));
  await expect(page.getByTestId('usage-chart')).toBeVisible();
  const total = await expectTotals(page, byUser);
  expect(show(sum([...userRows.values()])), 'the users add up to the totals').toEqual(show(total));

  // By model: other rows (model ids, no user names), the same totals; Sonnet 4's row is its
  // usage before plus this request.
  const ungrouped = waitForListUsage(page, []);
  await page.getByTestId('group-by-user').click();
  await ungrouped;
  await expect(page.getByTestId('row-label')).toHaveText(['All']);
  const byModelRes = waitForListUsage(page, [MODEL]);
  await page.getByTestId('group-by-modelId').click();
  const byModel = (await (await byModelRes).json()) as ListUsageJson;
  await expect(page.getByTestId('row-label').first()).not.toHaveText(dana);
  const modelRows = await expectRows(page, byModel, (r) => r.modelId ?? '');
  expect(modelRows.get(SONNET_4), 'Sonnet 4: before + this request').toEqual(show(plus(sonnetBefore, mine.usage)));
  expect([...modelRows.keys()].filter((k) => userRows.has(k)), 'no row key is both a user and a model').toEqual([]);
  expect(show(sum([...modelRows.values()])), 'the models add up to the same totals').toEqual(show(await expectTotals(page, byModel)));
  // By model and by user give the same totals. The two pages above were read at two moments,
  // and another spec's request may land in between, so the pair is read again back to back
  // until it is taken without one (an accounting error differs every time).
  if (JSON.stringify(show(totalsOf(byModel.totals))) !== JSON.stringify(show(total))) {
    await expect(async () => {
      const [u, m] = [await listUsage([USER]), await listUsage([MODEL])];
      expect(show(totalsOf(m.totals))).toEqual(show(totalsOf(u.totals)));
    }).toPass({ timeout: 30_000 });
  }

  // The CSV holds the header and the rows shown, with the same numbers.
  const download = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`portico-usage-${range.startDay}-${range.endDay}.csv`);
  const csv = parseCsv(await readFile((await file.path())!, 'utf8'));
  expect(csv[0]!.join(','), 'the CSV header').toBe(CSV_HEADER);
  const body = csv.slice(1);
  expect(body.length, 'a CSV line per row shown').toBe(modelRows.size);
  for (const cells of body) {
    expect(cells, JSON.stringify(cells)).toHaveLength(12);
    const [day, user, department, group, modelId, requests, errors, input, output, tokens, cost, currency] = cells as [string, ...string[]];
    expect([day, user, department, group], 'only the model is grouped by').toEqual(['', '', '', '']);
    expect(modelRows.get(modelId!), `the CSV row of ${modelId}`).toEqual(
      show({
        requests: BigInt(requests!),
        errors: BigInt(errors!),
        inputTokens: BigInt(input!),
        outputTokens: BigInt(output!),
        totalTokens: BigInt(tokens!),
        costNanos: decimalNanos(cost!),
      }),
    );
    expect(currency).toBe('USD');
  }
  await snap(page, '08-admin-usage');

  // The audit trail has this request's record, with its numbers.
  await page.getByRole('tab', { name: 'Audit trail' }).click();
  await expect(page.getByTestId('audit-table')).toBeVisible();
  const row = page.locator(`[data-testid="audit-row"][data-request-id="${mine.requestId}"]`);
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('audit-user')).toHaveText(dana);
  await expect(row.getByTestId('audit-call')).toHaveText('ConverseStream');
  await expect(row.getByTestId('audit-model')).toHaveText(SONNET_4);
  await expect(row.getByTestId('audit-outcome')).toHaveText('ok');
  const [inTok, outTok] = (await row.getByTestId('audit-tokens').innerText()).split('/').map((x) => countOf(x));
  expect([inTok, outTok], 'audit tokens in / out').toEqual([mine.usage.inputTokens, mine.usage.outputTokens]);
  expectMoney(await row.getByTestId('audit-cost').innerText(), mine.usage.costNanos, 'audit cost');
  await snap(page, '09-admin-audit');
});

/** Waits for the page's own ListUsage response grouped by exactly groupBy. */
function waitForListUsage(page: Page, groupBy: string[]): Promise<Response> {
  return page.waitForResponse(
    (r) => {
      if (!r.url().includes('/portico.admin.v1.AdminService/ListUsage')) return false;
      const m = getMessage(r) as { groupBy?: string[] } | null;
      return JSON.stringify(m?.groupBy ?? []) === JSON.stringify(groupBy);
    },
    { timeout: 15_000 },
  );
}

/**
 * Checks that the usage table shows exactly the response's rows, in order, each number as the
 * response has it, and returns the rows shown by key (from the label) with their numbers.
 */
async function expectRows(page: Page, res: ListUsageJson, key: (r: UsageRowJson) => string): Promise<Map<string, Record<keyof Totals, string>>> {
  const want = res.rows ?? [];
  expect(want.length, 'some usage rows').toBeGreaterThan(0);
  const rows = page.getByTestId('usage-row');
  await expect(page.getByTestId('row-label')).toHaveText(want.map((r) => key(r)));
  const out = new Map<string, Record<keyof Totals, string>>();
  for (const [i, r] of want.entries()) {
    const shown = await readRow(rows.nth(i), totalsOf(r.totals).costNanos, key(r));
    expect(shown, `the row of ${key(r)}`).toEqual(show(totalsOf(r.totals)));
    out.set(key(r), shown);
  }
  return out;
}

/** The numbers of a usage row as shown; the cost, shown rounded, is checked against costNanos. */
async function readRow(row: Locator, costNanos: bigint, what: string): Promise<Record<keyof Totals, string>> {
  const n = async (id: string) => countOf(await row.getByTestId(id).innerText());
  const t: Totals = {
    requests: await n('row-requests'),
    errors: await n('row-errors'),
    inputTokens: await n('row-input'),
    outputTokens: await n('row-output'),
    totalTokens: 0n,
    costNanos,
  };
  t.totalTokens = t.inputTokens + t.outputTokens;
  expectMoney(await row.getByTestId('row-cost').innerText(), costNanos, `${what}: cost`);
  return show(t);
}

/** Checks the totals line against the response and returns the response's totals. */
async function expectTotals(page: Page, res: ListUsageJson): Promise<Totals> {
  const t = totalsOf(res.totals);
  expect(leadingCount(await page.getByTestId('totals-requests').innerText()), 'total requests').toBe(t.requests);
  expect(leadingCount(await page.getByTestId('totals-tokens').innerText()), 'total tokens').toBe(t.totalTokens);
  expectMoney(await page.getByTestId('totals-cost').innerText(), t.costNanos, 'total cost');
  return t;
}

/** The sum of totals. */
function sum(ts: Record<keyof Totals, string>[]): Totals {
  return ts.reduce<Totals>(
    (acc, s) =>
      plus(acc, {
        requests: BigInt(s.requests),
        errors: BigInt(s.errors),
        inputTokens: BigInt(s.inputTokens),
        outputTokens: BigInt(s.outputTokens),
        totalTokens: BigInt(s.totalTokens),
        costNanos: BigInt(s.costNanos),
      }),
    ZERO,
  );
}
