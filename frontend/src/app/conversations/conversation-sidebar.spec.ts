import { TestBed } from '@angular/core/testing';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { createRouterTransport, type ServiceImpl } from '@connectrpc/connect';
import { provideRouter } from '@angular/router';
import { ConversationService } from '@gen/portico/conversation/v1/conversation_pb';
import { TRANSPORT } from '../core/transport';
import { ConversationSidebar } from './conversation-sidebar';

type Impl = Partial<ServiceImpl<typeof ConversationService>>;

function setup(impl: Impl = {}) {
  const now = Date.now();
  const transport = createRouterTransport(({ service }) => {
    service(ConversationService, {
      listConversations: () => ({
        conversations: [
          { id: 'p1', title: 'Pinned plan', pinned: true, updateTime: timestampFromDate(new Date(now - 40 * 86_400_000)) },
          { id: 't1', title: 'Today talk', updateTime: timestampFromDate(new Date(now)) },
          { id: 'o1', title: 'Old notes', updateTime: timestampFromDate(new Date(now - 90 * 86_400_000)) },
        ],
        history: { enabled: true },
      }),
      searchConversations: () => ({
        results: [
          {
            conversation: { id: 't1', title: 'Today talk' },
            messageId: 'm7',
            snippet: { text: '<img src=x onerror=alert(1)> zebra crossing', highlights: [{ start: 29, end: 34 }] },
          },
        ],
      }),
      ...impl,
    });
  });
  TestBed.configureTestingModule({
    imports: [ConversationSidebar],
    providers: [{ provide: TRANSPORT, useValue: transport }, provideRouter([])],
  });
  const fixture = TestBed.createComponent(ConversationSidebar);
  fixture.componentRef.setInput('activeId', 't1');
  return { fixture, el: fixture.nativeElement as HTMLElement };
}

async function settle(fixture: { whenStable(): Promise<unknown> }) {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0));
    await fixture.whenStable();
  }
}

describe('ConversationSidebar', () => {
  it('lists conversations in labelled sections, pinned first, the open one marked', async () => {
    const { fixture, el } = setup();
    await settle(fixture);
    const groups = Array.from(el.querySelectorAll('[data-testid="conversation-group"]'));
    expect(groups.map((g) => g.querySelector('h2')!.textContent!.trim())).toEqual(['Pinned', 'Today', 'Older']);
    for (const g of groups) expect(el.querySelector(`#${g.getAttribute('aria-labelledby')}`)).not.toBeNull();
    const current = el.querySelector('[aria-current="page"]')!;
    expect(current.textContent).toContain('Today talk');
    // Every actions button names its conversation for screen readers.
    const labels = Array.from(el.querySelectorAll('[data-testid="conversation-actions"]')).map((b) => b.getAttribute('aria-label'));
    expect(labels).toEqual(['Actions for Pinned plan', 'Actions for Today talk', 'Actions for Old notes']);
    expect(el.querySelector('[data-testid="conversation-search"]')!.getAttribute('id')).toBe('conversation-search');
    expect(el.querySelector('label[for="conversation-search"]')).not.toBeNull();
  });

  it('renders search snippets as text with <mark>, never as markup', async () => {
    const { fixture, el } = setup();
    await settle(fixture);
    const input = el.querySelector<HTMLInputElement>('[data-testid="conversation-search"]')!;
    input.value = 'zebra';
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await settle(fixture);
    const snippet = el.querySelector('[data-testid="search-snippet"]')!;
    expect(snippet.querySelector('img')).toBeNull();
    expect(snippet.textContent).toBe('<img src=x onerror=alert(1)> zebra crossing');
    expect(Array.from(snippet.querySelectorAll('mark')).map((m) => m.textContent)).toEqual(['zebra']);
    const link = el.querySelector<HTMLAnchorElement>('[data-testid="search-result"] a')!;
    expect(link.getAttribute('href')).toBe('/chat/t1?m=m7');
    expect(el.querySelector('[data-testid="search-status"]')!.textContent).toContain('1 conversation matches.');
  });

  it('says plainly when history is off, with no list and no search', async () => {
    const { fixture, el } = setup({ listConversations: () => ({ history: { enabled: false } }) });
    await settle(fixture);
    expect(el.querySelector('[data-testid="history-off"]')!.textContent).toContain('History is off for your account.');
    expect(el.querySelector('[data-testid="conversation-search"]')).toBeNull();
    expect(el.querySelector('[data-testid="conversation-item"]')).toBeNull();
  });
});
