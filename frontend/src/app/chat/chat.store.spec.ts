import { TestBed } from '@angular/core/testing';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import {
  ImageFormat,
  InferenceService,
  Provider,
  Role,
  StopReason,
  type ConverseStreamRequest,
} from '@gen/portico/inference/v1/inference_pb';
import { QuotaExceededSchema } from '@gen/portico/type/v1/quota_pb';
import { TRANSPORT } from '../core/transport';
import { checkImages } from './chat.models';
import { CHAT_STORAGE_KEY, ChatStore } from './chat.store';

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

function setup(impl: Impl = {}) {
  const requests: ConverseStreamRequest[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(InferenceService, {
      listModels: () => ({ models: MODELS, priceTableVersion: '2025-01' }),
      async *converseStream(req: ConverseStreamRequest) {
        requests.push(req);
        yield { event: { case: 'start', value: { requestId: 'req-1', role: Role.ASSISTANT, modelId: req.modelId } } };
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
      ...impl,
    });
  });
  TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
  return { store: TestBed.inject(ChatStore), requests };
}

describe('ChatStore', () => {
  beforeEach(() => sessionStorage.clear());

  it('loads the entitled models and picks the first', async () => {
    const { store } = setup();
    await store.loadModels();
    expect(store.models().map((m) => m.id)).toEqual(MODELS.map((m) => m.id));
    expect(store.modelId()).toBe('amazon.nova-lite-v1:0');
  });

  it('streams an answer with metrics and stores the conversation', async () => {
    const { store, requests } = setup();
    await store.loadModels();
    store.updateSettings({ systemPrompt: 'Be brief', maxTokens: 99999 });
    await store.send('Hello');
    const [user, answer] = store.messages();
    expect(user).toMatchObject({ role: 'user', text: 'Hello' });
    expect(answer).toMatchObject({ role: 'assistant', text: '# Hi\nthere', status: 'done', requestId: 'req-1', stopReason: 'END_TURN' });
    expect(answer!.metrics).toMatchObject({ inputTokens: 12, outputTokens: 3, cost: { currencyCode: 'USD', nanos: 4500 } });
    // Max tokens is capped to the model's maximum.
    expect(requests[0]!.inferenceConfig?.maxTokens).toBe(5120);
    TestBed.tick();
    const stored = JSON.parse(sessionStorage.getItem(CHAT_STORAGE_KEY)!);
    expect(stored.messages).toHaveLength(2);
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
      async *converseStream(_req: ConverseStreamRequest, ctx: HandlerContext) {
        yield { event: { case: 'delta', value: { text: 'partial' } } };
        started();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        serverSawAbort = ctx.signal.aborted;
      },
    });
    await store.loadModels();
    const done = store.send('Tell me a long story');
    await startedP;
    expect(store.streaming()).toBe(true);
    store.stop();
    await done;
    expect(store.streaming()).toBe(false);
    expect(store.messages()[1]).toMatchObject({ status: 'stopped', text: 'partial' });
    await new Promise((r) => setTimeout(r, 0));
    expect(serverSawAbort).toBe(true);
  });

  it('regenerates the last answer and resends edited messages', async () => {
    const { store, requests } = setup();
    await store.loadModels();
    await store.send('First');
    await store.send('Second');
    expect(store.messages()).toHaveLength(4);
    await store.regenerate();
    expect(store.messages()).toHaveLength(4);
    expect(requests[2]!.messages).toHaveLength(3);
    const firstId = store.messages()[0]!.id;
    await store.editAndResend(firstId, 'First, edited');
    expect(store.messages()).toHaveLength(2);
    expect(store.messages()[0]!.text).toBe('First, edited');
    const last = requests[requests.length - 1]!;
    expect(last.messages).toHaveLength(1);
    expect(last.messages[0]!.content[0]!.block).toEqual({ case: 'text', value: 'First, edited' });
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

  it('explains a quota error carried over the wire', async () => {
    const { store } = setup({
      // eslint-disable-next-line require-yield
      async *converseStream() {
        throw new ConnectError('quota exceeded', Code.ResourceExhausted, undefined, [
          { desc: QuotaExceededSchema, value: { status: { resetsAt: timestampFromDate(new Date('2030-01-01T00:00:00Z')) } } },
        ]);
      },
    });
    await store.loadModels();
    await store.send('Hi');
    expect(store.error()?.kind).toBe('quota');
    expect(store.messages()[1]!.status).toBe('error');
  });

  it('restores a stored conversation, marking an interrupted answer as stopped', () => {
    sessionStorage.setItem(
      CHAT_STORAGE_KEY,
      JSON.stringify({
        modelId: 'm',
        settings: { systemPrompt: 's', temperature: 0.2, maxTokens: 10 },
        messages: [
          { id: '1', role: 'user', text: 'hi', status: 'done' },
          { id: '2', role: 'assistant', text: 'hel', status: 'streaming' },
        ],
      }),
    );
    const { store } = setup();
    expect(store.messages()[1]!.status).toBe('stopped');
    expect(store.settings().temperature).toBe(0.2);
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
