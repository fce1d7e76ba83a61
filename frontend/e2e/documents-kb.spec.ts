import { test as plain } from '@playwright/test';
import { chooseModel, expect, signIn, test } from './fixtures';
import { nextAnswer } from './wire';

const NOVA_LITE = 'amazon.nova-lite-v1:0';
const HANDBOOK = 'PORTICOHB1';

/** A minimal one-page PDF (the service checks the %PDF- header). */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Page >> endobj\ntrailer << >>\n%%EOF\n');
const CSV = Buffer.from('region,revenue\nnorth,10\nsouth,20\n');

/** Calls an API procedure through the page (its session cookie and CSRF header) and returns status and body. */
async function post(page: import('@playwright/test').Page, procedure: string, body: object): Promise<[number, any]> {
  const [status, text] = await page.evaluate(
    async ([p, b]) => {
      const r = await fetch(`/api/${p}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF': '1' },
        body: JSON.stringify(b),
        credentials: 'same-origin',
      });
      return [r.status, await r.text()] as const;
    },
    [procedure, body] as const,
  );
  return [status, JSON.parse(text)];
}

test.describe('documents and knowledge bases', () => {
  test('alice attaches a PDF and a CSV and the answer names them; a wrong file is refused', async ({ page }) => {
    await signIn(page, 'alice', '/chat');
    await chooseModel(page, NOVA_LITE);
    const input = page.getByTestId('attach-document-input');
    await input.setInputFiles({ name: 'archive.zip', mimeType: 'application/zip', buffer: Buffer.from('PK') });
    await expect(page.getByTestId('attach-problems')).toContainText('is not a document this model reads');
    await input.setInputFiles([
      { name: 'Quarterly report.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: 'sales.csv', mimeType: 'text/csv', buffer: CSV },
    ]);
    const chips = page.getByTestId('pending-document');
    await expect(chips).toHaveCount(2);
    await expect(chips.first()).toContainText('Quarterly report.pdf · PDF');
    await expect(chips.last()).toContainText('sales.csv · CSV · 33 B');
    await page.getByTestId('composer-input').fill('Summarise these documents');
    await page.getByTestId('send-button').click();
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
    await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
    await expect(answer.getByTestId('message-content')).toContainText(
      'Documents received by the local stand-in: Quarterly report (pdf, 62 bytes); sales (csv, 33 bytes).',
    );
    await expect(page.getByTestId('sent-document')).toHaveCount(2);
  });

  test('alice asks the Portico handbook and opens a cited source', async ({ page, context }) => {
    await signIn(page, 'alice', '/chat');
    await page.getByTestId('kb-select').click();
    await page.locator(`[data-testid="kb-option"][data-kb-id="${HANDBOOK}"]`).click();
    // Picking the knowledge base picks the model that answers from it.
    await expect(page.getByTestId('model-select')).toContainText('Nova Lite');
    await page.getByTestId('composer-input').fill('How do I attach documents, and how large may they be?');
    await page.getByTestId('send-button').click();
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
    await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
    await expect(answer.getByTestId('message-content')).toContainText('[1]');
    const markers = answer.getByTestId('citation-marker');
    await expect(markers.first()).toHaveText('[1]');
    await markers.first().click();
    const panel = answer.getByTestId('sources-panel');
    await expect(panel).toBeVisible();
    const source = panel.getByTestId('source').filter({ hasText: 'documents.md' }).first();
    await expect(source).toContainText('paperclip');
    const [popup] = await Promise.all([context.waitForEvent('page'), source.getByTestId('source-link').click()]);
    await popup.waitForLoadState();
    await expect(popup.locator('body')).toContainText('# Asking about documents');
    await popup.close();
  });

  // The refused call logs its 403 in the browser console, so this test uses Playwright's plain page.
  plain('bob cannot pick or call the handbook', async ({ page }) => {
    await signIn(page, 'bob');
    await expect(page.getByTestId('no-access-page')).toBeVisible();
    await expect(page.getByTestId('kb-select')).toHaveCount(0);
    const [lmStatus, lm] = await post(page, 'portico.inference.v1.InferenceService/ListModels', {});
    expect(lmStatus).toBe(200);
    expect(lm.knowledgeBases ?? []).toEqual([]);
    const [status, err] = await post(page, 'portico.inference.v1.InferenceService/Converse', {
      modelId: NOVA_LITE,
      knowledgeBaseId: HANDBOOK,
      messages: [{ role: 'ROLE_USER', content: [{ text: 'How do quotas work?' }] }],
    });
    expect(status).toBe(403);
    expect(err.code).toBe('permission_denied');
  });

  // dana only reads here: her usage and Claude Sonnet 4 belong to dana.spec (playwright.config.ts).
  test('the audit trail shows the retrieval, never its text', async ({ page, browser }) => {
    await signIn(page, 'alice', '/chat');
    await page.getByTestId('kb-select').click();
    await page.locator(`[data-testid="kb-option"][data-kb-id="${HANDBOOK}"]`).click();
    const received = nextAnswer(page);
    await page.getByTestId('composer-input').fill('Where do I see my usage?');
    await page.getByTestId('send-button').click();
    const mine = await received;

    const admin = await browser.newContext();
    const danaPage = await admin.newPage();
    await signIn(danaPage, 'dana', '/chat');
    await danaPage.getByTestId('nav-admin').click();
    await expect(danaPage.getByTestId('admin-usage-page')).toBeVisible();
    await danaPage.getByRole('tab', { name: 'Audit trail' }).click();
    const row = danaPage.locator(`[data-testid="audit-row"][data-request-id="${mine.requestId}"]`);
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId('audit-retrieval')).toHaveText(/^PORTICOHB1 · [1-5] passages · \d+ ms$/);
    await expect(row).not.toContainText('Usage page');
    await admin.close();
  });
});
