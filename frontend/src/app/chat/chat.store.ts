import { Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ContentBlockSchema,
  ConverseStreamRequestSchema,
  MessageSchema,
  Provider,
  Role,
  StopReason,
  type KnowledgeBase,
  type Message,
  type Model,
} from '@gen/portico/inference/v1/inference_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import {
  DEFAULT_SETTINGS,
  fromBase64,
  toAnswerMetrics,
  type Attachment,
  type ChatMessage,
  type ChatSettings,
} from './chat.models';

/** Where a conversation is kept while the tab lives. */
export const CHAT_STORAGE_KEY = 'portico.chat.v1';

interface Stored {
  modelId: string;
  settings: ChatSettings;
  messages: ChatMessage[];
}

/** Performance marks of the first-token benchmark (e2e/first-token.bench.ts). */
export const FIRST_TOKEN_MARK = 'portico:first-token-received';
export const FIRST_PAINT_MARK = 'portico:first-token-painted';

function markFirstToken(): void {
  performance.clearMarks(FIRST_TOKEN_MARK);
  performance.clearMarks(FIRST_PAINT_MARK);
  performance.mark(FIRST_TOKEN_MARK);
}

let counter = 0;
function newId(): string {
  counter++;
  return `${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Holds one conversation: the models, the settings, the messages and the stream in flight. */
@Injectable({ providedIn: 'root' })
export class ChatStore {
  private readonly api = inject(Api);
  private abort: AbortController | null = null;

  readonly models = signal<Model[]>([]);
  readonly modelsLoading = signal(false);
  readonly modelsError = signal<FriendlyError | null>(null);
  readonly priceTableVersion = signal('');
  readonly modelId = signal('');
  /** The knowledge bases the caller is entitled to (ListModels). */
  readonly knowledgeBases = signal<KnowledgeBase[]>([]);
  /** The knowledge base questions are grounded in; "" for none. */
  readonly knowledgeBaseId = signal('');
  readonly settings = signal<ChatSettings>({ ...DEFAULT_SETTINGS });
  readonly messages = signal<ChatMessage[]>([]);
  readonly error = signal<FriendlyError | null>(null);

  readonly model = computed(() => this.models().find((m) => m.id === this.modelId()));
  readonly streaming = computed(() => this.messages().some((m) => m.status === 'streaming'));
  /** The max tokens actually sent: the setting, capped to the model's maximum. */
  readonly maxTokens = computed(() => {
    const cap = Number(this.model()?.maxOutputTokens ?? 0);
    const want = this.settings().maxTokens;
    return cap > 0 ? Math.min(want, cap) : want;
  });
  readonly lastAssistant = computed(() => {
    const list = this.messages();
    const last = list[list.length - 1];
    return last?.role === 'assistant' ? last : undefined;
  });

  constructor() {
    this.restore();
    effect(() => {
      const stored: Stored = { modelId: this.modelId(), settings: this.settings(), messages: this.messages() };
      untracked(() => this.persist(stored));
    });
  }

  /** Loads the caller's Bedrock models (ListModels only returns entitled ones). */
  async loadModels(): Promise<void> {
    this.modelsLoading.set(true);
    this.modelsError.set(null);
    try {
      const res = await this.api.inference.listModels({ provider: Provider.BEDROCK });
      const models = res.models.filter((m) => m.provider === Provider.BEDROCK || m.provider === Provider.UNSPECIFIED);
      this.models.set(models);
      this.priceTableVersion.set(res.priceTableVersion);
      this.knowledgeBases.set(res.knowledgeBases);
      if (!res.knowledgeBases.some((kb) => kb.id === this.knowledgeBaseId())) this.knowledgeBaseId.set('');
      if (!models.some((m) => m.id === this.modelId())) {
        this.modelId.set(models[0]?.id ?? '');
      }
    } catch (err) {
      this.modelsError.set(describeError(err));
    } finally {
      this.modelsLoading.set(false);
    }
  }

  /** Changes the settings. */
  updateSettings(patch: Partial<ChatSettings>): void {
    this.settings.update((s) => ({ ...s, ...patch }));
  }

  /** Sends a user message and streams the answer. */
  async send(text: string, attachments: Attachment[] = []): Promise<void> {
    const trimmed = text.trim();
    if ((!trimmed && attachments.length === 0) || this.streaming()) return;
    const user: ChatMessage = { id: newId(), role: 'user', text: trimmed, status: 'done' };
    if (attachments.length > 0) user.attachments = attachments;
    this.messages.update((list) => [...list, user]);
    await this.answer();
  }

  /** Replaces the last answer with a new one. */
  async regenerate(): Promise<void> {
    if (this.streaming()) return;
    const list = this.messages();
    if (list.length === 0) return;
    const last = list[list.length - 1]!;
    this.messages.set(last.role === 'assistant' ? list.slice(0, -1) : list);
    await this.answer();
  }

  /** Changes an earlier user message, drops everything after it and asks again. */
  async editAndResend(id: string, text: string): Promise<void> {
    if (this.streaming()) return;
    const list = this.messages();
    const i = list.findIndex((m) => m.id === id && m.role === 'user');
    if (i < 0 || !text.trim()) return;
    const edited: ChatMessage = { ...list[i]!, text: text.trim() };
    this.messages.set([...list.slice(0, i), edited]);
    await this.answer();
  }

  /** Stops the answer in flight; the server stops generating and spending. */
  stop(): void {
    this.abort?.abort();
  }

  /** Starts a new conversation. */
  clear(): void {
    this.stop();
    this.messages.set([]);
    this.error.set(null);
  }

  /** The conversation as Converse messages: roles alternate, starting with the user. */
  history(): Message[] {
    const out: Message[] = [];
    for (const m of this.messages()) {
      const content = [];
      if (m.text) content.push(create(ContentBlockSchema, { block: { case: 'text', value: m.text } }));
      for (const a of m.attachments ?? []) {
        content.push(
          a.kind === 'document'
            ? create(ContentBlockSchema, {
                block: { case: 'document', value: { format: a.documentFormat, name: a.name, data: fromBase64(a.base64) } },
              })
            : create(ContentBlockSchema, { block: { case: 'image', value: { format: a.format, data: fromBase64(a.base64) } } }),
        );
      }
      if (content.length === 0) continue;
      const role = m.role === 'user' ? Role.USER : Role.ASSISTANT;
      const prev = out[out.length - 1];
      if (prev && prev.role === role) {
        prev.content.push(...content);
      } else {
        out.push(create(MessageSchema, { role, content }));
      }
    }
    while (out.length > 0 && out[0]!.role !== Role.USER) out.shift();
    return out;
  }

  private patch(id: string, fn: (m: ChatMessage) => ChatMessage): void {
    this.messages.update((list) => list.map((m) => (m.id === id ? fn(m) : m)));
  }

  private async answer(): Promise<void> {
    const model = this.model();
    if (!model) return;
    this.error.set(null);
    const settings = this.settings();
    const request = create(ConverseStreamRequestSchema, {
      modelId: model.id,
      messages: this.history(),
      systemPrompt: model.capabilities?.systemPrompt ? settings.systemPrompt.trim() : '',
      inferenceConfig: { maxTokens: this.maxTokens(), temperature: settings.temperature },
      knowledgeBaseId: this.knowledgeBaseId(),
    });
    const id = newId();
    this.messages.update((list) => [...list, { id, role: 'assistant', text: '', status: 'streaming', modelId: model.id }]);
    const abort = new AbortController();
    this.abort = abort;
    let received = false;
    try {
      for await (const ev of this.api.inference.converseStream(request, { signal: abort.signal })) {
        switch (ev.event.case) {
          case 'start': {
            const requestId = ev.event.value.requestId;
            this.patch(id, (m) => ({ ...m, requestId }));
            break;
          }
          case 'delta': {
            const text = ev.event.value.text;
            if (!received) markFirstToken();
            received = true;
            this.patch(id, (m) => ({ ...m, text: m.text + text }));
            break;
          }
          case 'stop': {
            const stopReason = StopReason[ev.event.value.stopReason] ?? '';
            this.patch(id, (m) => ({ ...m, stopReason }));
            break;
          }
          case 'citations': {
            const citations = ev.event.value.citations.map((c) => ({
              number: c.number,
              title: c.title,
              location: c.location,
              excerpt: c.excerpt,
              score: c.score,
            }));
            this.patch(id, (m) => ({ ...m, citations }));
            break;
          }
          case 'metadata': {
            const metrics = ev.event.value.metrics;
            if (metrics) this.patch(id, (m) => ({ ...m, metrics: toAnswerMetrics(metrics) }));
            break;
          }
        }
      }
      this.patch(id, (m) => ({ ...m, status: 'done' }));
    } catch (err) {
      if (abort.signal.aborted || ConnectError.from(err).code === Code.Canceled) {
        this.patch(id, (m) => ({ ...m, status: 'stopped' }));
      } else {
        const friendly = describeError(err, { streaming: received });
        this.patch(id, (m) => ({ ...m, status: 'error', error: friendly }));
        this.error.set(friendly);
      }
    } finally {
      if (this.abort === abort) this.abort = null;
    }
  }

  private restore(): void {
    try {
      const raw = sessionStorage.getItem(CHAT_STORAGE_KEY);
      if (!raw) return;
      const s = JSON.parse(raw) as Stored;
      this.modelId.set(s.modelId ?? '');
      this.settings.set({ ...DEFAULT_SETTINGS, ...s.settings });
      this.messages.set(
        (s.messages ?? []).map((m) => (m.status === 'streaming' ? { ...m, status: 'stopped' as const } : m)),
      );
    } catch {
      sessionStorage.removeItem(CHAT_STORAGE_KEY);
    }
  }

  private persist(s: Stored): void {
    try {
      sessionStorage.setItem(CHAT_STORAGE_KEY, JSON.stringify(s));
    } catch {
      // Over the storage quota (large images): keep the text, drop the images.
      try {
        const slim = { ...s, messages: s.messages.map(({ attachments, ...m }) => m) };
        sessionStorage.setItem(CHAT_STORAGE_KEY, JSON.stringify(slim));
      } catch {
        // Storage unavailable: the conversation lasts as long as the page.
      }
    }
  }
}
