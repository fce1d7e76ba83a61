import type { Browser, Page } from '@playwright/test';
import { APP, expect, expectedConsoleError, signIn, snap, test } from './fixtures';
import { callApi, envelopes, nextAnswer, visibleText } from './wire';

/**
 * Conversations kept on the server (issue 13) through the real stack: they follow a person to
 * another browser, are found by a word of an answer, renamed, pinned and deleted for good,
 * reopen stopped or failed exactly as they ended, stay private to their owner, and are not
 * kept at all for a group whose history is off. Every test makes its own conversations with
 * a word no other test uses and finds them by it, so the specs running beside it (as alice
 * too) change nothing here.
 */

const GET_CONVERSATION = '/api/portico.conversation.v1.ConversationService/GetConversation';

/** A word no other test or run uses: letters and digits, so search takes it as one word. */
function uniqueWord(): string {
  return `zq${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A signed-in page in a browser context of its own (another browser, as far as the app can
 * tell), with the fixtures' console check. `notFoundOk` lets the 404 of GetConversation
 * through, for the tests that open a conversation on purpose that is not there for them.
 */
async function userPage(browser: Browser, user: string, path = '/chat', opts: { notFoundOk?: boolean } = {}) {
  const context = await browser.newContext({
    baseURL: APP,
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url ?? '';
    if (expectedConsoleError(msg.text(), where)) return;
    if (opts.notFoundOk && notFoundOfGet(msg.text(), where)) return;
    problems.push(`console error: ${msg.text()} (${where})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await signIn(page, user, path);
  return {
    page,
    async close() {
      await context.close();
      expect(problems, `no console errors (${user})`).toEqual([]);
    },
  };
}

function notFoundOfGet(text: string, url: string): boolean {
  if (text !== 'Failed to load resource: the server responded with a status of 404 (Not Found)') return false;
  try {
    const u = new URL(url);
    return u.origin === new URL(APP).origin && u.pathname === GET_CONVERSATION;
  } catch {
    return false;
  }
}

const userTurns = (page: Page) => page.locator('[data-testid="chat-message"][data-role="user"]');
const answers = (page: Page) => page.locator('[data-testid="chat-message"][data-role="assistant"]');
const item = (page: Page, id: string) => page.locator(`[data-testid="conversation-item"][data-conversation-id="${id}"]`);

/** Sends a prompt in the open chat and waits for its answer to finish; returns the answer's text as streamed. */
async function chat(page: Page, prompt: string): Promise<string> {
  const before = await answers(page).count();
  const received = nextAnswer(page);
  await page.getByTestId('composer-input').fill(prompt);
  // Enter sends only once the chat has loaded (the Send button says when).
  await expect(page.getByTestId('send-button')).toBeEnabled();
  await page.getByTestId('composer-input').press('Enter');
  const got = await received;
  await expect(answers(page)).toHaveCount(before + 1);
  await expect(answers(page).last()).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  return got.text;
}

/** The id of the conversation in the page's address (/chat/<id>). */
async function openId(page: Page): Promise<string> {
  await expect(page).toHaveURL(/\/chat\/[^/?#]+/);
  return new URL(page.url()).pathname.split('/')[2]!;
}

/** Opens a conversation's actions menu (by keyboard: focus, Enter) and picks an action. */
async function act(page: Page, id: string, action: 'rename' | 'pin' | 'delete'): Promise<void> {
  const button = item(page, id).getByTestId('conversation-actions');
  await button.focus();
  await page.keyboard.press('Enter');
  await page.getByTestId(`conversation-${action}`).click();
}

/** A conversation as GetConversation answers it (proto3 JSON). */
interface StoredJson {
  conversation?: { id?: string; title?: string; pinned?: boolean };
  messages?: { id?: string; role?: string; state?: string; errorCode?: string; content?: { text?: string }[] }[];
}

test.describe('conversations kept on the server', () => {
  test('alice chats, finds the conversation in another browser, reopens and continues it', async ({ page, browser }) => {
    const word = uniqueWord();
    const prompt = `${word} explains how queues differ from topics`;
    await signIn(page, 'alice', '/chat');
    await expect(page.getByTestId('conversation-sidebar')).toBeVisible();
    // Her system prompt goes with the conversation, to any device.
    const system = `Answer as a patient tutor (${word}).`;
    await page.getByTestId('settings-toggle').click();
    await page.getByTestId('system-prompt').fill(system);
    await page.getByTestId('settings-close').click();
    const first = await chat(page, prompt);
    // The first answer gave the conversation its own address and a place in the list, titled by the prompt.
    const id = await openId(page);
    await expect(item(page, id)).toBeVisible();
    await expect(item(page, id).getByTestId('conversation-title')).toHaveText(prompt);
    await expect(item(page, id).getByRole('link')).toHaveAttribute('aria-current', 'page');
    await expect(page.locator('[data-testid="conversation-group"][data-group="today"]').locator(`[data-conversation-id="${id}"]`)).toBeVisible();
    const answerText = await visibleText(answers(page).last().getByTestId('message-content'));
    await snap(page, '20-conversations-sidebar');

    // Another browser: the conversation is in her list and opens exactly as it was.
    const other = await userPage(browser, 'alice', '/chat');
    const p2 = other.page;
    await expect(item(p2, id)).toBeVisible();
    await item(p2, id).getByTestId('conversation-link').click();
    await expect(p2).toHaveURL(new RegExp(`/chat/${id}$`));
    await expect(userTurns(p2)).toHaveCount(1);
    await expect(userTurns(p2).getByTestId('message-content')).toHaveText(prompt);
    await expect(answers(p2)).toHaveCount(1);
    await expect(answers(p2).last()).toHaveAttribute('data-status', 'done');
    expect(await visibleText(answers(p2).last().getByTestId('message-content'))).toBe(answerText);
    // Its usage line came back too, and the settings it was sent with.
    await expect(answers(p2).last().getByTestId('message-metrics')).toContainText('out tokens');
    await p2.getByTestId('settings-toggle').click();
    await expect(p2.getByTestId('system-prompt')).toHaveValue(system);
    await p2.getByTestId('settings-close').click();
    expect(first).toContain("Portico's local development stand-in");

    // She continues it there: the second turn joins the same conversation.
    const follow = `${word} and what about retention`;
    await chat(p2, follow);
    await expect(p2).toHaveURL(new RegExp(`/chat/${id}$`));
    await expect(userTurns(p2)).toHaveCount(2);
    await other.close();

    // The first browser sees both turns after a reload of the same address.
    await page.reload();
    await expect(userTurns(page)).toHaveCount(2);
    await expect(userTurns(page).last().getByTestId('message-content')).toHaveText(follow);
    await expect(answers(page)).toHaveCount(2);
  });

  test('search finds a word that only the answer holds, highlighted, and opens the conversation', async ({ page }) => {
    const word = uniqueWord();
    await signIn(page, 'alice', '/chat');
    const text = await chat(page, `${word} describe a lighthouse`);
    const id = await openId(page);
    // The local model's answer names a seed derived from the prompt: a word in no prompt or title.
    const seed = /Seed:\*\*\s*`([0-9a-f]{16})`/.exec(text)?.[1];
    expect(seed, 'the answer names its seed').toBeTruthy();

    await page.getByTestId('new-chat').click();
    await expect(page).toHaveURL(/\/chat$/);
    const search = page.getByTestId('conversation-search');
    await search.fill(seed!);
    const result = page.locator(`[data-testid="search-result"][data-conversation-id="${id}"]`);
    await expect(result).toBeVisible();
    await expect(page.getByTestId('search-result')).toHaveCount(1);
    await expect(result.locator('mark')).toHaveText([seed!]);
    await expect(result).toContainText(`${word} describe a lighthouse`);
    await snap(page, '21-conversations-search');
    await result.getByRole('link').click();
    await expect(page).toHaveURL(new RegExp(`/chat/${id}\\?m=`));
    await expect(answers(page)).toHaveCount(1);
    await expect(answers(page).first()).toHaveClass(/target/);

    // Escape clears the search and shows the list again.
    await search.focus();
    await page.keyboard.press('Escape');
    await expect(search).toHaveValue('');
    await expect(item(page, id)).toBeVisible();
  });

  test('rename, pin and delete persist, and a deletion can be undone first', async ({ browser, page }) => {
    const word = uniqueWord();
    await signIn(page, 'alice', '/chat');
    await chat(page, `${word} plan a team offsite`);
    const id = await openId(page);

    // Rename inline, by keyboard.
    await act(page, id, 'rename');
    const input = item(page, id).getByTestId('rename-input');
    await expect(input).toBeFocused();
    await input.fill(`Offsite ${word}`);
    await input.press('Enter');
    await expect(item(page, id).getByTestId('conversation-title')).toHaveText(`Offsite ${word}`);
    await expect(item(page, id).getByTestId('conversation-link')).toBeFocused();

    // Pin: it moves to the Pinned section.
    await act(page, id, 'pin');
    const pinned = page.locator('[data-testid="conversation-group"][data-group="pinned"]');
    await expect(pinned.locator(`[data-conversation-id="${id}"]`)).toBeVisible();
    await expect(item(page, id)).toHaveAttribute('data-pinned', 'true');

    // Both persist: another browser sees them.
    const other = await userPage(browser, 'alice', '/chat', { notFoundOk: true });
    await expect(other.page.locator('[data-testid="conversation-group"][data-group="pinned"]').locator(`[data-conversation-id="${id}"]`)).toBeVisible();
    await expect(item(other.page, id).getByTestId('conversation-title')).toHaveText(`Offsite ${word}`);
    const stored = (await callApi(other.page, 'portico.conversation.v1.ConversationService/GetConversation', { conversationId: id })) as StoredJson;
    expect(stored.conversation).toMatchObject({ id, title: `Offsite ${word}`, pinned: true });

    // Delete, then undo within the undo period: nothing is deleted.
    await act(page, id, 'delete');
    await expect(page).toHaveURL(/\/chat$/);
    await expect(item(page, id)).toHaveCount(0);
    await expect(page.getByTestId('undo-toast')).toContainText(`Offsite ${word}`);
    await snap(page, '22-conversations-undo');
    await page.getByTestId('undo-delete').click();
    await expect(item(page, id)).toBeVisible();
    await expect(page.getByTestId('undo-toast')).toHaveCount(0);

    // Delete for good: the call is made once the undo period ends.
    const deleted = page.waitForResponse((r) => r.url().endsWith('/portico.conversation.v1.ConversationService/DeleteConversation'), {
      timeout: 20_000,
    });
    await act(page, id, 'delete');
    expect((await deleted).status()).toBe(200);
    await expect(page.getByTestId('undo-toast')).toHaveCount(0);
    await page.reload();
    await expect(page.getByTestId('conversation-sidebar')).toBeVisible();
    await expect(item(page, id)).toHaveCount(0);

    // Its address now says it is not there, in every browser.
    await other.page.goto(`/chat/${id}`);
    await expect(other.page.getByTestId('conversation-not-found')).toBeVisible();
    await expect(item(other.page, id)).toHaveCount(0);
    await other.close();
  });

  test('a deletion waiting for its undo period is still made when the page goes away', async ({ browser }) => {
    const word = uniqueWord();
    const first = await userPage(browser, 'alice', '/chat', { notFoundOk: true });
    await chat(first.page, `${word} draft a memo`);
    const id = await openId(first.page);
    await act(first.page, id, 'delete');
    await expect(first.page.getByTestId('undo-toast')).toBeVisible();
    // Leave the app at once (a full navigation away): the keepalive request deletes it.
    await first.page.goto('about:blank');
    await expect(async () => {
      await first.page.goto(`/chat/${id}`);
      await expect(first.page.getByTestId('conversation-not-found')).toBeVisible({ timeout: 5_000 });
    }).toPass({ timeout: 30_000 });
    await first.close();
  });

  test('a stopped answer reopens as stopped with its partial text, a failed one with its error', async ({ browser, page }) => {
    test.setTimeout(120_000);
    await signIn(page, 'alice', '/chat');

    // Stop an answer as soon as its first words show. The local model writes its ~100 words in
    // about two seconds; when a loaded machine delivers the click after the server finished,
    // the server rightly kept a complete answer, and the attempt is made again.
    let id = '';
    let shown = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const word = uniqueWord();
      if (await page.getByTestId('new-chat').isEnabled()) await page.getByTestId('new-chat').click();
      await page.getByTestId('composer-input').fill(`${word} write a long essay about rivers`);
      await expect(page.getByTestId('send-button')).toBeEnabled();
      await page.getByTestId('composer-input').press('Enter');
      const answer = answers(page).last();
      await expect(answer.getByTestId('message-content')).toBeVisible({ timeout: 30_000 });
      // Escape in the message box stops the answer (the Stop button does too).
      await page.getByTestId('composer-input').press('Escape');
      await expect(answer).not.toHaveAttribute('data-status', 'streaming');
      if ((await answer.getAttribute('data-status')) !== 'stopped') {
        test.info().annotations.push({ type: 'stop-attempt', description: `attempt ${attempt}: the answer ended before the stop` });
        continue;
      }
      id = await openId(page);
      shown = await visibleText(answer.getByTestId('message-content'));
      // The server stores the answer once the stream has ended.
      let state = '';
      await expect(async () => {
        const got = (await callApi(page, 'portico.conversation.v1.ConversationService/GetConversation', { conversationId: id })) as StoredJson;
        state = got.messages?.at(-1)?.state ?? '';
        expect(state).not.toBe('MESSAGE_STATE_STREAMING');
        expect(state).not.toBe('');
      }).toPass({ timeout: 20_000 });
      if (state === 'MESSAGE_STATE_STOPPED') break;
      test.info().annotations.push({ type: 'stop-attempt', description: `attempt ${attempt}: the server had finished (${state})` });
      id = '';
    }
    expect(id, 'an answer stopped before the server finished it').not.toBe('');

    // Reopened in another browser: stopped, with the partial text, the closing sentence never written.
    const other = await userPage(browser, 'alice', `/chat/${id}`);
    const reopened = answers(other.page).last();
    await expect(reopened).toHaveAttribute('data-status', 'stopped');
    await expect(reopened.getByTestId('stopped-note')).toBeVisible();
    const kept = await visibleText(reopened.getByTestId('message-content'));
    expect(kept.split(' ').slice(0, 4)).toEqual(shown.split(' ').slice(0, 4));
    expect(kept).not.toMatch(/AWS_ENDPOINT_URL|PORTICO_LOCALAWS_OPENAI_URL|different seed/);
    await snap(other.page, '23-conversations-stopped-reopened');

    // A failed answer (the model's stream breaks after a few words) reopens marked with its error.
    const word = uniqueWord();
    await other.page.getByTestId('new-chat').click();
    // The marker makes the local endpoint fail this one request; it is no word of the answer.
    await other.page.getByTestId('composer-input').fill(`${word} summarise the minutes [[fault:streamerror:8]]`);
    await expect(other.page.getByTestId('send-button')).toBeEnabled();
    await other.page.getByTestId('composer-input').press('Enter');
    const failed = answers(other.page).last();
    await expect(failed).toHaveAttribute('data-status', 'error', { timeout: 30_000 });
    const failedId = await openId(other.page);
    const partial = await visibleText(failed.getByTestId('message-content'));
    const message = await failed.getByTestId('message-error').innerText();
    await other.page.reload();
    await expect(answers(other.page).last()).toHaveAttribute('data-status', 'error');
    await expect(answers(other.page).last().getByTestId('message-error')).toHaveText(message);
    expect(await visibleText(answers(other.page).last().getByTestId('message-content'))).toBe(partial);
    const got = (await callApi(other.page, 'portico.conversation.v1.ConversationService/GetConversation', { conversationId: failedId })) as StoredJson;
    expect(got.messages?.at(-1)).toMatchObject({ state: 'MESSAGE_STATE_FAILED' });
    expect(got.messages?.at(-1)?.errorCode).toBeTruthy();
    await other.close();
  });

  test('another person cannot read a conversation by its id', async ({ browser, page }) => {
    const word = uniqueWord();
    await signIn(page, 'alice', '/chat');
    const secret = `${word} my private salary question`;
    await chat(page, secret);
    const id = await openId(page);

    // bob (no model access) asking the API by id: NotFound, as for an id that never existed
    // (the same form, one character changed).
    const never = id.slice(0, -1) + (id.endsWith('0') ? '1' : '0');
    const bob = await userPage(browser, 'bob', '/', { notFoundOk: true });
    await expect(bob.page.getByTestId('no-access-page')).toBeVisible();
    for (const conversationId of [id, never]) {
      const [status, body] = await bob.page.evaluate(async ([p, cid]) => {
        const r = await fetch(p, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF': '1' },
          body: JSON.stringify({ conversationId: cid }),
          credentials: 'same-origin',
        });
        return [r.status, await r.text()] as const;
      }, [GET_CONVERSATION, conversationId] as const);
      expect(status, conversationId).toBe(404);
      expect(JSON.parse(body).code).toBe('not_found');
      expect(body).not.toContain(word);
    }
    await bob.close();

    // dana (who may chat) opening alice's address: the app says not found and shows nothing of it.
    const dana = await userPage(browser, 'dana', `/chat/${id}`, { notFoundOk: true });
    await expect(dana.page.getByTestId('conversation-not-found')).toBeVisible();
    await expect(dana.page.getByTestId('conversation-not-found')).toContainText('Conversation not found');
    await expect(dana.page.locator('body')).not.toContainText(word);
    await expect(item(dana.page, id)).toHaveCount(0);
    await snap(dana.page, '24-conversations-not-found');
    await dana.close();
  });

  test('carol (history off) chats, is told plainly, and nothing is kept', async ({ page }) => {
    const word = uniqueWord();
    await signIn(page, 'carol', '/chat');
    await expect(page.getByTestId('history-off')).toContainText('History is off for your account.');
    await expect(page.getByTestId('history-off-hint')).toBeVisible();
    await expect(page.getByTestId('conversation-search')).toHaveCount(0);

    // The request carries the whole conversation and no conversation reference.
    const sent = page.waitForRequest((r) => r.url().endsWith('/portico.inference.v1.InferenceService/ConverseStream'));
    await chat(page, `${word} review this contract clause`);
    const body = (await sent).postDataBuffer();
    expect(body).not.toBeNull();
    const request = envelopes(body!).messages[0] as { conversation?: unknown; messages?: unknown[] };
    expect(request.conversation).toBeUndefined();
    expect(request.messages).toHaveLength(1);
    await expect(page).toHaveURL(/\/chat$/);

    // A second turn sends both earlier messages with it.
    const second = page.waitForRequest((r) => r.url().endsWith('/portico.inference.v1.InferenceService/ConverseStream'));
    await chat(page, `${word} and the termination clause`);
    const again = envelopes((await second).postDataBuffer()!).messages[0] as { conversation?: unknown; messages?: unknown[] };
    expect(again.conversation).toBeUndefined();
    expect(again.messages).toHaveLength(3);
    await snap(page, '25-conversations-history-off');

    // Nothing was stored: her list is empty and says history is off; a reload starts afresh.
    const list = (await callApi(page, 'portico.conversation.v1.ConversationService/ListConversations', {})) as {
      conversations?: unknown[];
      history?: { enabled?: boolean };
    };
    expect(list.conversations ?? []).toEqual([]);
    expect(list.history?.enabled ?? false).toBe(false);
    await page.reload();
    await expect(page.getByTestId('chat-empty')).toBeVisible();
    await expect(userTurns(page)).toHaveCount(0);
  });
});

