import OpenAI from 'openai';
import { expect, signIn, snap, test } from './fixtures';

/**
 * Programmatic access (issue 16), end to end: alice creates a key in the app, runs the page's
 * curl example (from Node, with fetch) and the official `openai` npm client against it with
 * streaming; her usage page counts both calls; dana (an administrator) sees the key and
 * revokes it; the next call answers 401. The key is matched by its prefix, so the spec holds
 * in Entra mode too, where owners are named differently.
 */
test.describe('API keys', () => {
  test('alice calls with a key, dana revokes it', async ({ page, browser }) => {
    test.setTimeout(120_000);
    await signIn(page, 'alice');
    await page.getByTestId('nav-usage').click();
    const requestsBefore = await usageRequests(page);

    await page.getByTestId('nav-keys').click();
    await expect(page.getByTestId('keys-page')).toBeVisible();
    await page.getByTestId('key-name').fill('e2e notebook');
    await page.getByTestId('key-create').click();
    const secret = (await page.getByTestId('key-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^portico_sk_[A-Za-z0-9_-]{48}$/);
    const prefix = secret.slice(0, 17);
    await snap(page, 'api-keys');
    await page.getByTestId('key-secret-done').click();
    await expect(page.getByTestId('key-secret')).toHaveCount(0);
    const row = page.locator(`[data-testid="key-row"][data-prefix="${prefix}"]`);
    await expect(row.getByTestId('key-status')).toHaveText('active');

    // The curl example, run from Node: its URL and body, with the key as $PORTICO_API_KEY.
    const curl = (await page.getByTestId('example-curl').textContent()) ?? '';
    const url = /curl -N '([^']+)'/.exec(curl)?.[1] ?? '';
    const body = /-d '(.+)'\s*$/.exec(curl)?.[1] ?? '';
    expect(url).toMatch(/\/v1\/chat\/completions$/);
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const deltas = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] });
    expect(deltas.filter((d) => d.choices[0]?.delta.content).length).toBeGreaterThan(1);

    // The official openai client, streaming, chunk by chunk.
    const baseURL = url.replace(/\/chat\/completions$/, '');
    const client = new OpenAI({ baseURL, apiKey: secret, maxRetries: 0 });
    const model = JSON.parse(body).model as string;
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Say hello from the openai npm client.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let chunks = 0;
    let text = '';
    let completionTokens = 0;
    for await (const chunk of stream) {
      const c = chunk.choices[0]?.delta?.content;
      if (c) {
        chunks++;
        text += c;
      }
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text.length).toBeGreaterThan(0);
    expect(completionTokens).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(model);

    // Her usage counts both calls (other specs may add to it meanwhile, never take away).
    await page.getByTestId('nav-usage').click();
    await expect.poll(() => usageRequests(page)).toBeGreaterThanOrEqual(requestsBefore + 2);
    await page.getByTestId('nav-keys').click();
    await expect(row.getByTestId('key-last-used')).not.toHaveText('—');

    // dana sees alice's key among everyone's and revokes it.
    const danaContext = await browser.newContext();
    const dana = await danaContext.newPage();
    await signIn(dana, 'dana');
    await dana.getByTestId('nav-keys').click();
    const danaRow = dana.locator(`[data-testid="all-key-row"][data-prefix="${prefix}"]`);
    await expect(danaRow.getByTestId('all-key-status')).toHaveText('active');
    await danaRow.getByTestId('all-key-revoke').click();
    await expect(danaRow.getByTestId('all-key-status')).toContainText('revoked');
    await danaContext.close();

    // The next call answers 401, to fetch and to the openai client alike.
    const after = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' }, body });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
    await page.reload();
    await expect(row.getByTestId('key-status')).toHaveText('revoked');
  });
});

/** Today's request count on the usage page. */
async function usageRequests(page: import('@playwright/test').Page): Promise<number> {
  await page.getByTestId('usage-refresh').click();
  const text = (await page.getByTestId('usage-today').getByTestId('usage-requests').textContent()) ?? '';
  return Number(text.replace(/[^0-9]/g, ''));
}
