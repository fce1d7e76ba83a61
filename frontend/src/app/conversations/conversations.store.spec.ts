import { TestBed } from '@angular/core/testing';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport, type ServiceImpl } from '@connectrpc/connect';
import { ConversationService, type Conversation } from '@gen/portico/conversation/v1/conversation_pb';
import { TRANSPORT } from '../core/transport';
import { ConversationsStore, UNDO_MS } from './conversations.store';

type Impl = Partial<ServiceImpl<typeof ConversationService>>;

const at = (d: string) => timestampFromDate(new Date(d));
const LIST = [
  { id: 'p', title: 'Pinned one', pinned: true, updateTime: at('2026-01-01T00:00:00Z') },
  { id: 'a', title: 'Alpha', updateTime: at('2026-12-06T09:00:00Z') },
  { id: 'b', title: 'Beta', updateTime: at('2026-12-05T09:00:00Z') },
];

function setup(impl: Impl = {}) {
  const deleted: string[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(ConversationService, {
      listConversations: () => ({ conversations: LIST, history: { enabled: true, retentionDays: 30 }, nextPageToken: '' }),
      deleteConversation: (req) => {
        deleted.push(req.conversationId);
        return {};
      },
      ...impl,
    });
  });
  TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
  return { store: TestBed.inject(ConversationsStore), deleted };
}

const ids = (list: Conversation[]) => list.map((c) => c.id);
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('ConversationsStore', () => {
  afterEach(() => vi.useRealTimers());

  it('loads the list and whether history is kept', async () => {
    const { store } = setup();
    expect(store.historyEnabled()).toBeNull();
    await store.load();
    expect(ids(store.conversations())).toEqual(['p', 'a', 'b']);
    expect(store.historyEnabled()).toBe(true);
    expect(store.history()?.retentionDays).toBe(30);
  });

  it('deletes only after the undo period, and an undo keeps the conversation', async () => {
    vi.useFakeTimers();
    const { store, deleted } = setup();
    await store.load();
    store.remove('a');
    expect(ids(store.conversations())).toEqual(['p', 'b']);
    expect(store.undoable()?.id).toBe('a');
    expect(store.isDeleted('a')).toBe(true);
    await vi.advanceTimersByTimeAsync(UNDO_MS - 1);
    expect(deleted).toEqual([]);
    store.undo('a');
    expect(ids(store.conversations())).toEqual(['p', 'a', 'b']);
    expect(store.undoable()).toBeNull();
    await vi.advanceTimersByTimeAsync(UNDO_MS * 2);
    expect(deleted).toEqual([]);

    store.remove('b');
    await vi.advanceTimersByTimeAsync(UNDO_MS);
    expect(deleted).toEqual(['b']);
    expect(ids(store.conversations())).toEqual(['p', 'a']);
    expect(store.undoable()).toBeNull();
    // Reading the list again does not bring back a conversation whose deletion is waiting.
    store.remove('a');
    await store.load();
    expect(ids(store.conversations())).toEqual(['p', 'b']);
  });

  it('shows a conversation again, with the reason, when the server refuses to delete it', async () => {
    vi.useFakeTimers();
    const { store } = setup({
      deleteConversation: () => {
        throw new ConnectError('store down', Code.Unavailable);
      },
    });
    await store.load();
    store.remove('a');
    await vi.advanceTimersByTimeAsync(UNDO_MS);
    expect(ids(store.conversations())).toEqual(['p', 'a', 'b']);
    expect(store.error()?.kind).toBe('unavailable');
  });

  it('sends waiting deletions with keepalive requests when the page goes away', async () => {
    const { store, deleted } = setup();
    await store.load();
    const calls: [string, RequestInit][] = [];
    const original = globalThis.fetch;
    globalThis.fetch = ((url: string, init: RequestInit) => {
      calls.push([url, init]);
      return Promise.resolve(new Response('{}'));
    }) as typeof fetch;
    try {
      store.remove('a');
      await flush(); // the body's hash is computed
      window.dispatchEvent(new Event('pagehide'));
    } finally {
      globalThis.fetch = original;
    }
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0]!;
    expect(url).toBe('/api/portico.conversation.v1.ConversationService/DeleteConversation');
    expect(init.keepalive).toBe(true);
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body as string)).toEqual({ conversationId: 'a' });
    const headers = init.headers as Record<string, string>;
    expect(headers['X-CSRF']).toBe('1');
    expect(headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(store.undoable()).toBeNull();
    // Not sent twice: the timer is cleared.
    await new Promise((r) => setTimeout(r, 10));
    expect(deleted).toEqual([]);
  });

  it('renames and pins at once and goes back when the server refuses', async () => {
    let fail = false;
    const { store } = setup({
      updateConversation: (req) => {
        if (fail) throw new ConnectError('too long', Code.InvalidArgument);
        const base = LIST.find((c) => c.id === req.conversation!.id)!;
        const c = req.conversation!;
        const paths = req.updateMask!.paths;
        return {
          conversation: {
            id: base.id,
            title: paths.includes('title') ? c.title : base.title,
            pinned: paths.includes('pinned') ? c.pinned : (base.pinned ?? false),
            updateTime: base.updateTime,
          },
        };
      },
    });
    await store.load();
    expect(await store.rename('a', 'Renamed')).toBe(true);
    expect(store.find('a')?.title).toBe('Renamed');
    expect(await store.setPinned('b', true)).toBe(true);
    expect(store.find('b')?.pinned).toBe(true);
    fail = true;
    const pending = store.rename('a', 'Refused');
    expect(store.find('a')?.title).toBe('Refused');
    expect(await pending).toBe(false);
    expect(store.find('a')?.title).toBe('Renamed');
    expect(store.error()?.kind).toBe('invalid');
    // An empty or unchanged title is no change.
    expect(await store.rename('a', '   ')).toBe(false);
    expect(await store.rename('a', 'Renamed')).toBe(false);
  });

  it('keeps only the latest search’s results', async () => {
    let releaseSlow!: () => void;
    const slow = new Promise<void>((r) => (releaseSlow = r));
    const { store } = setup({
      searchConversations: async (req) => {
        if (req.query === 'slow') await slow;
        return { results: [{ conversation: { id: req.query, title: req.query }, snippet: { text: req.query, highlights: [{ start: 0, end: 1 }] } }] };
      },
    });
    const first = store.search('slow');
    await store.search('fast');
    releaseSlow();
    await first;
    expect(store.results().map((r) => r.conversation?.id)).toEqual(['fast']);
    expect(store.searching()).toBe(false);
    await store.search('  ');
    expect(store.results()).toEqual([]);
  });

  it('moves a conversation with a new turn to the top', async () => {
    const { store } = setup();
    await store.load();
    store.touch({ id: 'b', title: 'Beta' });
    expect(ids(store.conversations())).toEqual(['b', 'p', 'a']);
    store.touch({ id: 'new', title: 'New one', modelId: 'm' });
    expect(store.conversations()[0]).toMatchObject({ id: 'new', title: 'New one', modelId: 'm' });
  });
});
