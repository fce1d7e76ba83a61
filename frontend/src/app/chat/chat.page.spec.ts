import { TestBed } from '@angular/core/testing';
import { createRouterTransport } from '@connectrpc/connect';
import { InferenceService, Provider, type ConverseStreamRequest } from '@gen/portico/inference/v1/inference_pb';
import { TRANSPORT } from '../core/transport';
import { ChatPage } from './chat.page';

describe('ChatPage', () => {
  let requests: ConverseStreamRequest[];
  let modelsGate: Promise<void>;

  beforeEach(() => {
    sessionStorage.clear();
    requests = [];
    modelsGate = Promise.resolve();
    const transport = createRouterTransport(({ service }) => {
      service(InferenceService, {
        listModels: async () => (await modelsGate, {
          models: [
            {
              id: 'amazon.nova-lite-v1:0',
              provider: Provider.BEDROCK,
              displayName: 'Amazon Nova Lite',
              maxOutputTokens: 5120n,
              contextWindow: 300000n,
              capabilities: { streaming: true, images: true, maxImages: 20, maxImageBytes: 3750000n },
              pricing: {
                inputPer1kTokens: { currencyCode: 'USD', nanos: 60000 },
                outputPer1kTokens: { currencyCode: 'USD', nanos: 240000 },
              },
            },
          ],
        }),
        async *converseStream(req) {
          requests.push(req);
          yield { event: { case: 'delta', value: { text: '## Answer\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |' } } };
          yield {
            event: {
              case: 'metadata',
              value: { metrics: { inputTokens: 5n, outputTokens: 7n, estimatedCost: { currencyCode: 'USD', nanos: 2000 } } },
            },
          };
        },
      });
    });
    TestBed.configureTestingModule({ imports: [ChatPage], providers: [{ provide: TRANSPORT, useValue: transport }] });
  });

  async function settle(fixture: { whenStable(): Promise<unknown> }) {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await fixture.whenStable();
    }
  }

  it('shows the model with capabilities and estimated prices', async () => {
    const fixture = TestBed.createComponent(ChatPage);
    await settle(fixture);
    const el = fixture.nativeElement as HTMLElement;
    const info = el.querySelector('[data-testid="model-info"]')!.textContent!;
    expect(info).toContain('Images');
    expect(info).toContain('Streaming');
    expect(el.querySelector('[data-testid="model-prices"]')!.textContent).toContain('estimate');
    expect(el.querySelector('[data-testid="chat-empty"]')).not.toBeNull();
  });

  it('sends a message entered while the chat loads once it has loaded, and Esc keeps it a draft', async () => {
    let release!: () => void;
    modelsGate = new Promise((r) => (release = r));
    const fixture = TestBed.createComponent(ChatPage);
    await settle(fixture);
    const el = fixture.nativeElement as HTMLElement;
    const input = el.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]')!;
    input.value = 'Early';
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await settle(fixture);
    expect(requests).toHaveLength(0);
    expect(el.querySelector('[data-testid="send-queued"]')).not.toBeNull();
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await settle(fixture);
    expect(el.querySelector('[data-testid="send-queued"]')).toBeNull();
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await settle(fixture);
    expect(requests).toHaveLength(0);
    release();
    await settle(fixture);
    expect(requests).toHaveLength(1);
    expect(el.querySelector('[data-testid="send-queued"]')).toBeNull();
    expect(input.value).toBe('');
  });

  it('sends on Enter, keeps Shift+Enter for new lines, and renders the answer safely', async () => {
    const fixture = TestBed.createComponent(ChatPage);
    await settle(fixture);
    const el = fixture.nativeElement as HTMLElement;
    const input = el.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]')!;
    input.value = 'Hello';
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true }));
    await settle(fixture);
    expect(requests).toHaveLength(0);
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await settle(fixture);
    expect(requests).toHaveLength(1);
    const messages = el.querySelectorAll('[data-testid="chat-message"]');
    expect(messages).toHaveLength(2);
    const answer = messages[1]!.querySelector('[data-testid="message-content"]')!;
    expect(answer.querySelector('h2')?.textContent).toBe('Answer');
    expect(answer.querySelector('table')).not.toBeNull();
    expect(answer.innerHTML).not.toContain('<script');
    expect(el.querySelector('[data-testid="message-metrics"]')!.textContent).toContain('5 in');
    expect(el.querySelector('[data-testid="message-cost"]')!.textContent).toContain('estimate');
    expect(input.value).toBe('');
  });
});
