import { TestBed } from '@angular/core/testing';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import {
  ConversationService,
  MessageState,
  type GetConversationRequest,
  type UpdateConversationRequest,
} from '@gen/portico/conversation/v1/conversation_pb';
import {
  ConversationTurnSchema,
  ImageFormat,
  InferenceService,
  Provider,
  Role,
  StopReason,
  type ConverseStreamRequest,
} from '@gen/portico/inference/v1/inference_pb';
import { QuotaExceededSchema } from '@gen/portico/type/v1/quota_pb';
import { ConversationsStore } from '../conversations/conversations.store';
import { TRANSPORT } from '../core/transport';
import { checkImages } from './chat.models';
import { ChatStore } from './chat.store';

const MODELS = [
  {
    id: 'amazon.nova-lite-v1:0',
    provider: Provider.BEDROCK,
    displayName: 'Amazon Nova Lite',
    maxOutputTokens: 5120n,
    capabilities: { streaming: true, images: true, maxImages: 2, maxImageBytes: 1000n },
  },
  {
    id: 'amazon.titan-text-express-v1',
    provider: Provider.BEDROCK,
    displayName: 'Titan',
    maxOutputTokens: 8192n,
    capabilities: { streaming: true },
  },
];

type Impl = Partial<ServiceImpl<typeof InferenceService>>;
type ConvImpl = Partial<ServiceImpl<typeof ConversationService>>;

const text = (value: string) => ({ block: { case: 'text' as const, value } });

/** A fake server: it numbers conversations and messages the way the real one names them. */
function setup(opts: { history?: boolean; impl?: Impl; conv?: ConvImpl } = {}) {
  const requests: ConverseStreamRequest[] = [];
  const deleted: string[] = [];
  const gets: GetConversationRequest[] = [];
  let seq = 0;
  const transport = createRouterTransport(({ service }) => {
    service(InferenceService, {
      listModels: () => ({ models: MODELS, priceTableVersion: '2025-01' }),
      async *converseStream(req: ConverseStreamRequest) {
        requests.push(req);
        yield { event: { case: 'start', value: { requestId: 'req-1', role: Role.ASSISTANT, modelId: req.modelId } } };
        if (req.conversation) {
          seq++;
          yield {
            event: {
              case: 'conversation',
              value: {
                conversationId: req.conversation.conversationId || `c${seq}`,
                userMessageId: `u${seq}`,
                assistantMessageId: `a${seq}`,
                title: 'Hello title',
                droppedTurns: seq === 2 ? 3 : 0,
              },
            },
          };
        }
        yield { event: { case: 'delta', value: { text: '# Hi\n' } } };
        yield { event: { case: 'delta', value: { text: 'there' } } };
        yield { event: { case: 'stop', value: { stopReason: StopReason.END_TURN } } };
        yield {
          event: {
            case: 'metadata',
            value: { metrics: { inputTokens: 12n, outputTokens: 3n, estimatedCost: { currencyCode: 'USD', units: 0n, nanos: 4500 } } },
          },
        };
      },
      ...opts.impl,
    });
    service(ConversationService, {
      listConversations: () => ({ conversations: [], history: { enabled: opts.history ?? true } }),
      deleteConversation: (req) => {
        deleted.push(req.conversationId);
        return {};
      },
      getConversation: (req) => {
        gets.push(req);
        throw new ConnectError('no such conversation', Code.NotFound);
      },
      ...opts.conv,
    });
  });
  TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
  return { store: TestBed.inject(ChatStore), list: TestBed.inject(ConversationsStore), requests, deleted, gets };
}

describe('ChatStore', () => {
  beforeEach(() => sessionStorage.clear());

  it('loads the entitled models and picks the first', async () => {
    const { store } = setup();
    await store.loadModels();
    expect(store.models().map((m) => m.id)).toEqual(MODELS.map((m) => m.id));
    expect(store.modelId()).toBe('amazon.nova-lite-v1:0');
  });

  it('sends only the new turn of a kept conversation and learns where the server stored it', async () => {
    const { store, list, requests } = setup();
    await store.loadModels();
    store.updateSettings({ systemPrompt: 'Be brief', maxTokens: 99999 });
    await store.send('Hello');
    const [user, answer] = store.messages();
    expect(user).toMatchObject({ role: 'user', text: 'Hello', serverId: 'u1' });
    expect(answer).toMatchObject({ role: 'assistant', text: '# Hi\nthere', status: 'done', requestId: 'req-1', stopReason: 'END_TURN', serverId: 'a1' });
    expect(answer!.metrics).toMatchObject({ inputTokens: 12, outputTokens: 3, cost: { currencyCode: 'USD', nanos: 4500 } });
    // Max tokens is capped to the model's maximum.
    expect(requests[0]!.inferenceConfig?.maxTokens).toBe(5120);
    expect(requests[0]!.conversation).toMatchObject({ conversationId: '', parentMessageId: '' });
    expect(store.conversationId()).toBe('c1');
    expect(store.created()).toBe('c1');
    expect(store.title()).toBe('Hello title');
    expect(list.conversations().map((c) => [c.id, c.title])).toEqual([['c1', 'Hello title']]);

    // The next turn continues it with only the new message.
    await store.send('And more');
    expect(requests[1]!.messages).toHaveLength(1);
    expect(requests[1]!.messages[0]!.content[0]!.block).toEqual({ case: 'text', value: 'And more' });
    expect(requests[1]!.conversation).toMatchObject({ conversationId: 'c1', parentMessageId: '' });
    // The dropped-turns notice is kept on the answer it belongs to.
    expect(store.messages()[3]!.droppedTurns).toBe(3);
    expect(store.messages()[1]!.droppedTurns).toBeUndefined();
  });

  it('keeps nothing in the browser: no sessionStorage, and a leftover of older versions is removed', async () => {
    sessionStorage.setItem('portico.chat.v1', JSON.stringify({ messages: [{ id: '1', role: 'user', text: 'secret' }] }));
    const { store } = setup();
    expect(sessionStorage.getItem('portico.chat.v1')).toBeNull();
    await store.loadModels();
    await store.send('Hello');
    TestBed.tick();
    expect(sessionStorage.length).toBe(0);
  });

  it('sends the whole conversation and keeps nothing when history is off', async () => {
    const { store, requests } = setup({ history: false });
    await store.loadModels();
    await store.send('First');
    await store.send('Second');
    expect(requests.map((r) => r.conversation)).toEqual([undefined, undefined]);
    expect(requests[1]!.messages.map((m) => m.role)).toEqual([Role.USER, Role.ASSISTANT, Role.USER]);
    expect(store.conversationId()).toBe('');
    expect(store.created()).toBe('');
  });

  it('asks again without keeping the conversation when the server says history is off', async () => {
    let listed = 0;
    const { store, requests } = setup({
      conv: { listConversations: () => ({ history: { enabled: listed++ === 0 } }) },
      impl: {
        // eslint-disable-next-line require-yield
        async *converseStream(req: ConverseStreamRequest) {
          requests.push(req);
          if (req.conversation) throw new ConnectError('history is off', Code.FailedPrecondition);
          yield { event: { case: 'delta', value: { text: 'stateless answer' } } };
        },
      },
    });
    await store.loadModels();
    await store.send('Hello');
    expect(requests.map((r) => !!r.conversation)).toEqual([true, false]);
    expect(store.messages().map((m) => [m.role, m.status, m.text])).toEqual([
      ['user', 'done', 'Hello'],
      ['assistant', 'done', 'stateless answer'],
    ]);
    expect(store.error()).toBeNull();
  });

  it('works statelessly against a deployment that keeps no conversations', async () => {
    const { store, list, requests } = setup({
      conv: {
        listConversations: () => {
          throw new ConnectError('not here', Code.Unimplemented);
        },
      },
      impl: {
        // eslint-disable-next-line require-yield
        async *converseStream(req: ConverseStreamRequest) {
          requests.push(req);
          if (req.conversation) throw new ConnectError('this deployment keeps no conversations', Code.FailedPrecondition);
          yield { event: { case: 'delta', value: { text: 'ok' } } };
        },
      },
    });
    await store.loadModels();
    await store.send('Hello');
    await store.send('Again');
    expect(requests.map((r) => !!r.conversation)).toEqual([true, false, false]);
    expect(requests[2]!.messages).toHaveLength(3);
    expect(list.historyEnabled()).toBe(false);
    expect(store.messages().map((m) => m.status)).toEqual(['done', 'done', 'done', 'done']);
  });

  it('leaves the system prompt out for models without one', async () => {
    const { store, requests } = setup();
    await store.loadModels();
    store.modelId.set('amazon.titan-text-express-v1');
    store.updateSettings({ systemPrompt: 'Be brief' });
    await store.send('Hello');
    expect(requests[0]!.systemPrompt).toBe('');
  });

  it('stops a stream and cancels it on the server', async () => {
    let serverSawAbort = false;
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const { store } = setup({
      impl: {
        async *converseStream(_req: ConverseStreamRequest, ctx: HandlerContext) {
          yield { event: { case: 'conversation', value: { conversationId: 'c9', userMessageId: 'u9', assistantMessageId: 'a9' } } };
          yield { event: { case: 'delta', value: { text: 'partial' } } };
          started();
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          serverSawAbort = ctx.signal.aborted;
        },
      },
    });
    await store.loadModels();
    const done = store.send('Tell me a long story');
    await startedP;
    expect(store.streaming()).toBe(true);
    store.stop();
    await done;
    expect(store.streaming()).toBe(false);
    expect(store.messages()[1]).toMatchObject({ status: 'stopped', text: 'partial', serverId: 'a9' });
    await new Promise((r) => setTimeout(r, 0));
    expect(serverSawAbort).toBe(true);
  });

  it('regenerates and edits from the message before the user turn (parent_message_id)', async () => {
    const { store, requests } = setup();
    await store.loadModels();
    await store.send('First'); // c1: u1, a1
    await store.send('Second'); // u2, a2
    expect(store.messages()).toHaveLength(4);
    await store.regenerate(); // u3, a3 after a1
    expect(store.messages()).toHaveLength(4);
    expect(requests[2]!.conversation).toMatchObject({ conversationId: 'c1', parentMessageId: 'a1' });
    expect(requests[2]!.messages).toHaveLength(1);
    expect(requests[2]!.messages[0]!.content[0]!.block).toEqual({ case: 'text', value: 'Second' });
    expect(store.messages().map((m) => m.serverId)).toEqual(['u1', 'a1', 'u3', 'a3']);

    const second = store.messages()[2]!.id;
    await store.editAndResend(second, 'Second, edited');
    expect(requests[3]!.conversation).toMatchObject({ conversationId: 'c1', parentMessageId: 'a1' });
    expect(requests[3]!.messages[0]!.content[0]!.block).toEqual({ case: 'text', value: 'Second, edited' });
    expect(store.messages().map((m) => m.text)).toEqual(['First', '# Hi\nthere', 'Second, edited', '# Hi\nthere']);
  });

  it('answers the first message again from the start of the conversation (its own id)', async () => {
    const { store, requests } = setup();
    await store.loadModels();
    await store.send('First'); // c1
    await store.regenerate();
    expect(requests[1]!.conversation).toMatchObject({ conversationId: 'c1', parentMessageId: 'c1' });
    await store.editAndResend(store.messages()[0]!.id, 'First, edited');
    expect(requests[2]!.conversation).toMatchObject({ conversationId: 'c1', parentMessageId: 'c1' });
    expect(requests[2]!.messages[0]!.content[0]!.block).toEqual({ case: 'text', value: 'First, edited' });
    expect(store.conversationId()).toBe('c1');
    expect(store.messages()).toHaveLength(2);
  });

  it('sends images as Converse image blocks', async () => {
    const { store, requests } = setup();
    await store.loadModels();
    await store.send('What is this?', [{ name: 'a.png', format: ImageFormat.PNG, size: 3, base64: btoa('abc') }]);
    const content = requests[0]!.messages[0]!.content;
    expect(content[1]!.block.case).toBe('image');
    const image = content[1]!.block.value as { format: ImageFormat; data: Uint8Array };
    expect(image.format).toBe(ImageFormat.PNG);
    expect(Array.from(image.data)).toEqual([97, 98, 99]);
  });

  it('explains a quota error carried over the wire and learns the stored turn from its details', async () => {
    const { store } = setup({
      impl: {
        // eslint-disable-next-line require-yield
        async *converseStream() {
          throw new ConnectError('quota exceeded', Code.ResourceExhausted, undefined, [
            { desc: QuotaExceededSchema, value: { status: { resetsAt: timestampFromDate(new Date('2030-01-01T00:00:00Z')) } } },
            { desc: ConversationTurnSchema, value: { conversationId: 'c7', userMessageId: 'u7', assistantMessageId: 'a7', title: 'Hi' } },
          ]);
        },
      },
    });
    await store.loadModels();
    await store.send('Hi');
    expect(store.error()?.kind).toBe('quota');
    expect(store.messages()[1]).toMatchObject({ status: 'error', serverId: 'a7' });
    expect(store.messages()[0]!.serverId).toBe('u7');
    expect(store.conversationId()).toBe('c7');
  });

  it('opens a kept conversation exactly as stored: stopped and failed answers included', async () => {
    const at = timestampFromDate(new Date('2026-12-01T10:00:00Z'));
    const { store, list } = setup({
      conv: {
        getConversation: (req) => ({
          conversation: { id: req.conversationId, title: 'Kept', modelId: 'amazon.titan-text-express-v1', updateTime: at },
          messages: [
            { id: 'm1', role: Role.USER, content: [text('Q1')], state: MessageState.COMPLETE },
            { id: 'm2', parentId: 'm1', role: Role.ASSISTANT, content: [text('Half an ans')], state: MessageState.STOPPED, modelId: 'amazon.titan-text-express-v1' },
            { id: 'm3', parentId: 'm2', role: Role.USER, content: [text('Q2')], state: MessageState.COMPLETE },
            {
              id: 'm4', parentId: 'm3', role: Role.ASSISTANT, content: [], state: MessageState.FAILED, errorCode: 'resource_exhausted',
              metrics: { inputTokens: 4n, outputTokens: 0n },
            },
            { id: 'm5', parentId: 'm4', role: Role.USER, content: [text('Q3')], state: MessageState.COMPLETE },
            { id: 'm6', parentId: 'm5', role: Role.ASSISTANT, content: [text('Still')], state: MessageState.STREAMING },
          ],
        }),
      },
    });
    await store.loadModels();
    await store.open('k1');
    expect(store.loadState()).toBe('ready');
    expect(store.title()).toBe('Kept');
    expect(store.modelId()).toBe('amazon.titan-text-express-v1');
    expect(store.messages().map((m) => [m.serverId, m.role, m.text, m.status])).toEqual([
      ['m1', 'user', 'Q1', 'done'],
      ['m2', 'assistant', 'Half an ans', 'stopped'],
      ['m3', 'user', 'Q2', 'done'],
      ['m4', 'assistant', '', 'error'],
      ['m5', 'user', 'Q3', 'done'],
      ['m6', 'assistant', 'Still', 'incomplete'],
    ]);
    expect(store.messages()[3]!.error?.kind).toBe('throttled');
    expect(store.messages()[3]!.metrics?.inputTokens).toBe(4);
    expect(list.find('k1')?.title).toBe('Kept');
  });

  it('restores the settings the latest turn was sent with, and keeps the person’s own for what was not kept', async () => {
    const turns: Record<string, object | undefined> = {
      s1: {
        modelId: 'amazon.titan-text-express-v1',
        systemPrompt: 'Answer as a travel agent.',
        inferenceConfig: { temperature: 0.30000001192092896, maxTokens: 300 },
      },
      s2: { modelId: 'amazon.nova-lite-v1:0', systemPromptNotKept: true, inferenceConfig: { temperature: 0.9 } },
      s3: undefined, // kept before settings were
    };
    const { store } = setup({
      conv: {
        getConversation: (req) => ({
          conversation: { id: req.conversationId, title: 'Kept', modelId: 'amazon.nova-lite-v1:0' },
          messages: [{ id: 'm1', role: Role.USER, content: [text('Q1')], state: MessageState.COMPLETE }],
          settings: turns[req.conversationId],
        }),
      },
    });
    await store.loadModels();
    store.updateSettings({ systemPrompt: 'Mine', temperature: 0.5, maxTokens: 1000 });
    await store.open('s1');
    expect(store.modelId()).toBe('amazon.titan-text-express-v1');
    expect(store.settings()).toEqual({ systemPrompt: 'Answer as a travel agent.', temperature: 0.3, maxTokens: 300 });
    expect(store.systemPromptNotKept()).toBe(false);
    store.updateSettings({ systemPrompt: 'Mine again' });
    await store.open('s2');
    expect(store.modelId()).toBe('amazon.nova-lite-v1:0');
    expect(store.settings()).toEqual({ systemPrompt: 'Mine again', temperature: 0.9, maxTokens: 300 });
    expect(store.systemPromptNotKept()).toBe(true);
    await store.open('s3');
    expect(store.settings()).toEqual({ systemPrompt: 'Mine again', temperature: 0.9, maxTokens: 300 });
    expect(store.systemPromptNotKept()).toBe(false);
  });

  it('says a conversation that is not the caller’s was not found', async () => {
    const { store, gets } = setup();
    await store.open('someone-elses');
    expect(gets.map((g) => g.conversationId)).toEqual(['someone-elses']);
    expect(store.loadState()).toBe('not-found');
    expect(store.messages()).toEqual([]);
    // Nothing can be sent into it.
    await store.loadModels();
    await store.send('Hello?');
    expect(store.messages()).toEqual([]);
    store.newChat();
    expect(store.loadState()).toBe('ready');
    expect(store.conversationId()).toBe('');
  });

  it('reads an address as nothing there when history is off for the person', async () => {
    const { store, list } = setup({
      conv: {
        getConversation: () => {
          throw new ConnectError('history is off', Code.FailedPrecondition);
        },
      },
    });
    await store.open('k1');
    expect(store.loadState()).toBe('not-found');
    expect(list.historyEnabled()).toBe(false);
  });

  it('opening another conversation while one loads shows only the latest', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const { store } = setup({
      conv: {
        getConversation: async (req) => {
          if (req.conversationId === 'slow') await slow;
          return { conversation: { id: req.conversationId, title: req.conversationId }, messages: [] };
        },
      },
    });
    const first = store.open('slow');
    await store.open('fast');
    release();
    await first;
    expect(store.conversationId()).toBe('fast');
    expect(store.title()).toBe('fast');
  });

  it('merges consecutive messages of one role so roles alternate', async () => {
    const { store } = setup();
    store.messages.set([
      { id: '1', role: 'user', text: 'a', status: 'done' },
      { id: '2', role: 'assistant', text: '', status: 'error' },
      { id: '3', role: 'user', text: 'b', status: 'done' },
    ]);
    const h = store.history();
    expect(h).toHaveLength(1);
    expect(h[0]!.content).toHaveLength(2);
  });

  it('renames through UpdateConversation with a field mask', async () => {
    const updates: UpdateConversationRequest[] = [];
    const { store, list } = setup({
      conv: {
        updateConversation: (req) => {
          updates.push(req);
          return { conversation: req.conversation };
        },
      },
    });
    await store.loadModels();
    await store.send('Hello');
    expect(await list.rename('c1', '  New name  ')).toBe(true);
    expect(updates[0]!.updateMask?.paths).toEqual(['title']);
    expect(updates[0]!.conversation).toMatchObject({ id: 'c1', title: 'New name' });
  });
});

describe('checkImages', () => {
  const model = MODELS[0] as never;
  it('accepts supported images within limits', () => {
    expect(checkImages([{ name: 'a.png', type: 'image/png', size: 10 }], 0, model)).toEqual([]);
  });
  it('refuses wrong formats, large files and too many images', () => {
    expect(checkImages([{ name: 'a.bmp', type: 'image/bmp', size: 10 }], 0, model)[0]).toContain('not a PNG');
    expect(checkImages([{ name: 'a.png', type: 'image/png', size: 5000 }], 0, model)[0]).toContain('larger than');
    expect(checkImages([{ name: 'a.png', type: 'image/png', size: 1 }], 2, model)[0]).toContain('at most 2 images');
  });
  it('refuses images for models without image support', () => {
    expect(checkImages([{ name: 'a.png', type: 'image/png', size: 1 }], 0, MODELS[1] as never)[0]).toContain('does not accept');
  });
});
