import type { Page } from '@playwright/test';
import { DISPLAY_NAMES, chooseModel, expect, signIn, snap, test } from './fixtures';
import { callApi, countOf, expectMoney, leadingCount, nextAnswer, plus, show, totalsOf, visibleText, type Totals } from './wire';

const SONNET_4 = 'us.anthropic.claude-sonnet-4-20250514-v1:0';

test.describe('alice (MLUsers)', () => {
  test('signs in, sees only her models and gets a streamed Markdown answer', async ({ page }) => {
    const res = await page.goto('/');
    // The BFF's strict CSP is active for the whole run: no inline script, no eval.
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    await expect(page.getByTestId('sign-in-button')).toHaveText(/Sign in with your company account/);
    await snap(page, '01-sign-in');

    await signIn(page, 'alice');
    await expect(page).toHaveURL(/\/chat$/);
    await expect(page.getByTestId('user-name')).toHaveText(DISPLAY_NAMES['alice']!);

    // The model picker lists only entitled models: no Claude Sonnet 4 for MLUsers.
    await page.getByTestId('model-select').click();
    const options = page.getByTestId('model-option');
    await expect(options.first()).toBeVisible();
    const ids = await options.evaluateAll((els) => els.map((e) => e.getAttribute('data-model-id')));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).not.toContain(SONNET_4);
    expect(ids).toContain('amazon.nova-lite-v1:0');
    await snap(page, '02-model-picker');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('model-prices')).toContainText('estimate');

    const prompt = 'Explain streaming responses in Portico';
    const composer = page.getByTestId('composer-input');
    await composer.fill(prompt);
    const received = nextAnswer(page);
    await composer.press('Enter');

    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
    // Streaming: the stop button shows while the answer arrives.
    await expect(page.getByTestId('stop-button')).toBeVisible();
    await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
    const content = answer.getByTestId('message-content');
    await expect(content.locator('h1, h2, h3').first()).toBeVisible();
    await expect(content.locator('ul > li').first()).toBeVisible();
    await expect(content.locator('pre code')).toBeVisible();
    await expect(content.locator('table')).toBeVisible();
    await expect(content.locator('script')).toHaveCount(0);
    // The answer's usage line shows what the stream reported for it.
    const got = await received;
    await expect(content.locator('h2')).toHaveText('About Explain streaming responses in');
    const metrics = (await answer.getByTestId('message-metrics').innerText()).replace(/\s+/g, ' ');
    expect(metrics).toMatch(/^[\d,]+ in · [\d,]+ out tokens/);
    const [, input, output] = /^([\d,]+) in · ([\d,]+) out/.exec(metrics)!;
    expect([countOf(input!), countOf(output!)]).toEqual([got.usage.inputTokens, got.usage.outputTokens]);
    await expect(answer.getByTestId('message-cost')).toContainText('estimate');
    expectMoney(await answer.getByTestId('message-cost').innerText(), got.usage.costNanos, 'the answer\'s cost');
    await snap(page, '03-chat-answer');
    await page.getByTestId('theme-toggle').click();
    await snap(page, '03b-chat-answer-dark');
    await page.getByTestId('theme-toggle').click();

    // The conversation survives a reload in the same tab: the same question, the same answer.
    const userTurn = page.locator('[data-testid="chat-message"][data-role="user"]').getByTestId('message-content');
    await expect(userTurn).toHaveText(prompt);
    const answerText = await visibleText(content);
    expect(answerText).toContain('This answer comes from Portico\'s local development stand-in');
    await page.reload();
    await expect(page.locator('[data-testid="chat-message"][data-role="user"]')).toHaveCount(1);
    await expect(page.locator('[data-testid="chat-message"][data-role="assistant"]')).toHaveCount(1);
    await expect(userTurn).toHaveText(prompt);
    await expect(answer).toHaveAttribute('data-status', 'done');
    expect(await visibleText(content)).toBe(answerText);
  });

  test('stops a stream mid-way', async ({ page }) => {
    await signIn(page, 'alice', '/chat');
    // The local model streams its ~100 words in about two seconds, which a busy machine can
    // spend before the click lands; a slow download (600 bytes/s) keeps the answer arriving
    // for several seconds however loaded the machine is.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 600, uploadThroughput: -1 });
    const composer = page.getByTestId('composer-input');
    await composer.fill('Write a long detailed essay about the history of stream processing systems');
    await composer.press('Enter');
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
    await expect(answer.getByTestId('message-content')).toBeVisible();
    await page.getByTestId('stop-button').click();
    await expect(answer).toHaveAttribute('data-status', 'stopped');
    await expect(answer.getByTestId('stopped-note')).toBeVisible();
    await expect(page.getByTestId('send-button')).toBeVisible();
    // The answer really ended early: the closing sentence never arrived.
    const text = (await answer.getByTestId('message-content').textContent()) ?? '';
    expect(text).not.toMatch(/AWS_ENDPOINT_URL|PORTICO_LOCALAWS_OPENAI_URL|different seed/);
    await snap(page, '04-chat-stopped');
  });

  test('regenerates, edits and resends', async ({ page }) => {
    await signIn(page, 'alice', '/chat');
    const composer = page.getByTestId('composer-input');
    await composer.fill('First question about queues');
    await composer.press('Enter');
    const answers = page.locator('[data-testid="chat-message"][data-role="assistant"]');
    await expect(answers.last()).toHaveAttribute('data-status', 'done', { timeout: 30_000 });

    await page.getByTestId('regenerate').click();
    await expect(answers).toHaveCount(1);
    await expect(answers.last()).toHaveAttribute('data-status', 'done', { timeout: 30_000 });

    await page.getByTestId('edit-message').click();
    await page.getByTestId('edit-input').fill('Second question about topics');
    await page.getByTestId('edit-input').press('Enter');
    await expect(page.locator('[data-testid="chat-message"][data-role="user"]')).toHaveCount(1);
    await expect(page.locator('[data-testid="chat-message"][data-role="user"]')).toContainText('Second question about topics');
    await expect(answers.last()).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
    // The local model's heading repeats the prompt's first words.
    await expect(answers.last().locator('h2')).toContainText('Second question about topics');
  });

  test('attaches an image for an image-capable model and refuses a wrong file', async ({ page }) => {
    await signIn(page, 'alice', '/chat');
    await chooseModel(page, 'amazon.nova-lite-v1:0');
    const input = page.getByTestId('attach-input');
    await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await expect(page.getByTestId('attach-problems')).toContainText('not a PNG, JPEG, GIF or WebP');
    // A 1×1 transparent PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    );
    await input.setInputFiles({ name: 'pixel.png', mimeType: 'image/png', buffer: png });
    await expect(page.getByTestId('pending-attachments')).toContainText('pixel.png');
    await page.getByTestId('composer-input').fill('Describe this image');
    await page.getByTestId('send-button').click();
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"]').last();
    await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
    await expect(page.locator('[data-testid="chat-message"][data-role="user"] img')).toHaveCount(1);
  });

  test('sees her usage', async ({ page }) => {
    test.setTimeout(120_000); // up to three measurements
    await signIn(page, 'alice', '/chat');
    await expect(page.getByTestId('nav-admin')).toHaveCount(0);
    // Her usage before and after one request of hers must differ by exactly what the answer
    // reported. Other specs may run as alice at the same time; a measurement they disturbed is
    // repeated (a real accounting error disturbs every one).
    let matched = false;
    for (let attempt = 1; attempt <= 3 && !matched; attempt++) {
      const before = totalsOf(((await callApi(page, 'portico.inference.v1.InferenceService/GetUsage', {})) as { today?: unknown }).today);
      await page.getByTestId('nav-chat').click();
      if (await page.getByTestId('new-chat').isEnabled()) await page.getByTestId('new-chat').click();
      const received = nextAnswer(page);
      await page.getByTestId('composer-input').fill(`How much did question ${attempt} cost?`);
      await expect(page.getByTestId('send-button')).toBeEnabled();
      await page.getByTestId('composer-input').press('Enter');
      const mine = (await received).usage;
      await expect(page.locator('[data-testid="chat-message"][data-role="assistant"]').last()).toHaveAttribute('data-status', 'done');

      const shown = page.waitForResponse((r) => r.url().includes('/portico.inference.v1.InferenceService/GetUsage'));
      await page.getByTestId('nav-usage').click();
      const res = await (await shown).json();
      await expect(page.getByTestId('my-usage-page')).toBeVisible();
      await expect(page.getByTestId('usage-today')).toBeVisible();
      // What the page shows is what it was told, for today, this month and every quota.
      await expectCard(page, 'today', totalsOf(res.today));
      await expectCard(page, 'month', totalsOf(res.thisMonth));
      const quotas = page.getByTestId('quota');
      await expect(quotas).toHaveCount(res.quotas.length);
      expect(res.quotas.length).toBeGreaterThan(0);
      for (const [i, q] of (res.quotas as { used?: string; remaining?: string; limit?: { limit?: string } }[]).entries()) {
        const used = (await quotas.nth(i).getByTestId('quota-used').innerText()).split('/').map((x) => countOf(x));
        expect(used).toEqual([BigInt(q.used ?? '0'), BigInt(q.limit?.limit ?? '0')]);
        expect(leadingCount(await quotas.nth(i).getByTestId('quota-remaining').innerText())).toBe(BigInt(q.remaining ?? '0'));
      }
      // Today's card shows her usage before plus exactly this request.
      const today = show(totalsOf(res.today));
      const want = show(plus(before, mine));
      matched = JSON.stringify(today) === JSON.stringify(want);
      if (attempt === 3) expect(today, 'today = before + this request').toEqual(want);
      if (matched) test.info().annotations.push({ type: 'usage-attempts', description: String(attempt) });
    }
    await snap(page, '05-my-usage');
  });

  test('calls the SageMaker endpoint', async ({ page }) => {
    await signIn(page, 'alice', '/endpoints');
    await expect(page.getByTestId('endpoint-form')).toHaveAttribute('data-endpoint', 'portico-demo-llm');
    await page.getByTestId('payload-input').fill('{ not json');
    await expect(page.getByTestId('payload-problem')).toContainText('not valid JSON');
    await expect(page.getByTestId('endpoint-send')).toBeDisabled();
    await page.getByTestId('payload-input').fill('{"inputs": "Hello endpoint", "parameters": {"max_new_tokens": 32}}');
    await page.getByTestId('endpoint-send').click();
    await expect(page.getByTestId('endpoint-response')).not.toBeEmpty({ timeout: 30_000 });
    await expect(page.getByTestId('endpoint-send')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('endpoint-status-chip')).toHaveText(/OK/);
    // The streamed JSON lines are assembled into the generated text.
    await expect(page.getByTestId('endpoint-text')).toContainText('Hello');
    await expect(page.getByTestId('endpoint-latency')).toContainText(' s');
    await snap(page, '06-endpoints');
  });

  test('signs out back to the sign-in page', async ({ page }) => {
    await signIn(page, 'alice', '/chat');
    await page.getByTestId('user-menu').click();
    await expect(page.getByTestId('user-group')).toContainText(['MLUsers']);
    await page.getByTestId('sign-out').click();
    await expect(page.getByTestId('sign-in-page')).toBeVisible({ timeout: 30_000 });
    // The session is gone: the app asks to sign in again.
    await page.goto('/chat');
    await expect(page.getByTestId('sign-in-page')).toBeVisible();
  });
});

/** Checks one of the usage page's cards ("today" or "month") against totals t. */
async function expectCard(page: Page, id: 'today' | 'month', t: Totals): Promise<void> {
  const card = page.getByTestId(`usage-${id}`);
  expect(leadingCount(await card.getByTestId('usage-tokens').innerText()), `${id}: tokens`).toBe(t.totalTokens);
  expect(leadingCount(await card.getByTestId('usage-requests').innerText()), `${id}: requests`).toBe(t.requests);
  expectMoney(await card.getByTestId('usage-cost').innerText(), t.costNanos, `${id}: cost`);
  const inOut = (await card.getByTestId('usage-in-out').innerText()).replace(/\s+/g, ' ');
  const m = /^([\d,]+) in · ([\d,]+) out · (no errors|1 error|([\d,]+) errors)$/.exec(inOut);
  expect(m, `${id}: ${JSON.stringify(inOut)}`).not.toBeNull();
  expect([countOf(m![1]!), countOf(m![2]!)], `${id}: tokens in and out`).toEqual([t.inputTokens, t.outputTokens]);
  const errors = m![3] === 'no errors' ? 0n : m![3] === '1 error' ? 1n : countOf(m![4]!);
  expect(errors, `${id}: errors`).toBe(t.errors);
}
