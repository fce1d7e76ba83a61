import { TestBed } from '@angular/core/testing';
import { provideRouter, Router, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';
import { ConversationService, MessageState } from '@gen/portico/conversation/v1/conversation_pb';
import { InferenceService, Provider, Role, type ConverseStreamRequest } from '@gen/portico/inference/v1/inference_pb';
import { chatMatcher } from '../app.routes';
import { TRANSPORT } from '../core/transport';
import { ChatPage } from './chat.page';

const text = (value: string) => ({ block: { case: 'text' as const, value } });

describe('ChatPage addresses', () => {
  let requests: ConverseStreamRequest[];

  beforeEach(() => {
    requests = [];
    const transport = createRouterTransport(({ service }) => {
      service(InferenceService, {
        listModels: () => ({
          models: [{ id: 'amazon.nova-lite-v1:0', provider: Provider.BEDROCK, displayName: 'Nova Lite', maxOutputTokens: 5120n, capabilities: { streaming: true } }],
        }),
        async *converseStream(req) {
          requests.push(req);
          yield { event: { case: 'start', value: { requestId: 'r1', role: Role.ASSISTANT } } };
          yield { event: { case: 'conversation', value: { conversationId: 'new1', userMessageId: 'u1', assistantMessageId: 'a1', title: 'Hello' } } };
          yield { event: { case: 'delta', value: { text: 'Hi!' } } };
        },
      });
      service(ConversationService, {
        listConversations: () => ({ history: { enabled: true } }),
        getConversation: (req) => {
          if (req.conversationId !== 'kept1') throw new ConnectError('no such conversation', Code.NotFound);
          return {
            conversation: { id: 'kept1', title: 'Kept one' },
            messages: [
              { id: 'm1', role: Role.USER, content: [text('Tell me a story')], state: MessageState.COMPLETE },
              { id: 'm2', role: Role.ASSISTANT, content: [text('Once upon')], state: MessageState.STOPPED },
              { id: 'm3', role: Role.USER, content: [text('Go on')], state: MessageState.COMPLETE },
              { id: 'm4', role: Role.ASSISTANT, content: [text('And then')], state: MessageState.FAILED, errorCode: 'unavailable' },
            ],
          };
        },
      });
    });
    TestBed.configureTestingModule({
      providers: [
        { provide: TRANSPORT, useValue: transport },
        provideRouter([{ matcher: chatMatcher, component: ChatPage }], withComponentInputBinding()),
      ],
    });
  });

  async function settle(harness: RouterTestingHarness) {
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await harness.fixture.whenStable();
    }
  }

  it('gives a new conversation its address once the server names it', async () => {
    const harness = await RouterTestingHarness.create('/chat');
    await settle(harness);
    const el = harness.routeNativeElement!;
    const page = harness.routeDebugElement!.componentInstance as ChatPage;
    const input = el.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]')!;
    input.value = 'Hello';
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await settle(harness);
    expect(TestBed.inject(Router).url).toBe('/chat/new1');
    // The same page (and its answer) stays: the route is one for both addresses.
    expect(harness.routeDebugElement!.componentInstance).toBe(page);
    expect(requests).toHaveLength(1);
    expect(el.querySelectorAll('[data-testid="chat-message"]')).toHaveLength(2);
    expect(el.querySelector('[data-conversation-id="new1"] [aria-current="page"]')?.textContent).toContain('Hello');
  });

  it('opens /chat/<id> as stored, stopped and failed answers marked', async () => {
    const harness = await RouterTestingHarness.create('/chat/kept1');
    await settle(harness);
    const el = harness.routeNativeElement!;
    const answers = el.querySelectorAll('[data-testid="chat-message"][data-role="assistant"]');
    expect(Array.from(answers).map((a) => a.getAttribute('data-status'))).toEqual(['stopped', 'error']);
    expect(answers[0]!.querySelector('[data-testid="stopped-note"]')).not.toBeNull();
    expect(answers[1]!.querySelector('[data-testid="message-error"]')!.textContent).toContain('Answer interrupted');
    expect(answers[1]!.textContent).toContain('And then');
    expect(document.title).toBe('Kept one · Portico');
  });

  it('starts a new chat on Ctrl+Shift+O and goes to the search on Ctrl+Shift+F', async () => {
    const harness = await RouterTestingHarness.create('/chat/kept1');
    await settle(harness);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F', ctrlKey: true, shiftKey: true }));
    expect(document.activeElement?.id).toBe('conversation-search');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'O', ctrlKey: true, shiftKey: true }));
    await settle(harness);
    expect(TestBed.inject(Router).url).toBe('/chat');
    expect(harness.routeNativeElement!.querySelector('[data-testid="chat-empty"]')).not.toBeNull();
  });

  it('says an unknown address holds no conversation', async () => {
    const harness = await RouterTestingHarness.create('/chat/someone-elses');
    await settle(harness);
    const el = harness.routeNativeElement!;
    expect(el.querySelector('[data-testid="conversation-not-found"]')!.textContent).toContain('Conversation not found');
    expect(el.querySelector<HTMLButtonElement>('[data-testid="send-button"]')!.disabled).toBe(true);
    // New chat leaves it.
    await harness.navigateByUrl('/chat');
    await settle(harness);
    expect(el.querySelector('[data-testid="conversation-not-found"]')).toBeNull();
    expect(el.querySelector('[data-testid="chat-empty"]')).not.toBeNull();
  });
});
