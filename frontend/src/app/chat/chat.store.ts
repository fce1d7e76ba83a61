import { Injectable, computed, inject, signal } from '@angular/core';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ContentBlockSchema,
  ConversationRefSchema,
  ConversationTurnSchema,
  ConverseStreamRequestSchema,
  MessageSchema,
  Provider,
  Role,
  StopReason,
  type KnowledgeBase,
  type ContentBlock,
  type ConversationRef,
  type ConversationTurn,
  type Message,
  type Model,
} from '@gen/portico/inference/v1/inference_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { ConversationApi } from '../conversations/conversation-api';
import { ConversationsStore } from '../conversations/conversations.store';
import { DEFAULT_SETTINGS, fromBase64, toAnswerMetrics, type Attachment, type ChatMessage, type ChatSettings } from './chat.models';
import { fromStored } from './stored-messages';
import type { TurnSettings } from '@gen/portico/conversation/v1/conversation_pb';

/** Performance marks of the first-token benchmark (e2e/first-token.bench.ts). */
export const FIRST_TOKEN_MARK = 'portico:first-token-received';
export const FIRST_PAINT_MARK = 'portico:first-token-painted';

/** Where earlier versions kept the conversation in the tab; removed at start. */
const LEGACY_STORAGE_KEY = 'portico.chat.v1';

function markFirstToken(): void {
  performance.clearMarks(FIRST_TOKEN_MARK);
  performance.clearMarks(FIRST_PAINT_MARK);
  performance.mark(FIRST_TOKEN_MARK);
}

let counter = 0;
function newId(): string {
  counter++;
  return `local-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** How the open conversation stands: shown, being read, not found (or not the caller's), or unreadable. */
export type LoadState = 'ready' | 'loading' | 'not-found' | 'error';

/** The user turn of a request and where it goes in a server-kept conversation. */
interface Turn {
  /** The local id of the user message the answer follows. */
  userId: string;
  /**
   * The message the user turn follows on the server: empty for the latest one, the
   * conversation's own id for its start.
   */
  parent: string;
}

/**
 * Holds the open conversation: the models and settings, the messages, the stream in flight
 * and where the conversation is kept. When the server keeps history (ListConversations says
 * so), a request carries only the new user turn with a ConversationRef and the server stores
 * both turns; otherwise every request carries the whole conversation and nothing outlives
 * the page.
 */
@Injectable({ providedIn: 'root' })
export class ChatStore {
  private readonly api = inject(Api);
  private readonly list = inject(ConversationsStore);
  private readonly conversationApi = inject(ConversationApi).client;
  private abort: AbortController | null = null;
  /** Counts the conversations opened in this tab; a stream applies ids only to its own. */
  private view = 0;
  private preferredModel = '';

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
  /** The open conversation's system prompt was too long for the server to keep. */
  readonly systemPromptNotKept = signal(false);
  readonly messages = signal<ChatMessage[]>([]);
  readonly error = signal<FriendlyError | null>(null);

  /** The server id of the open conversation; empty for a new one not stored yet. */
  readonly conversationId = signal('');
  /** The open conversation's title. */
  readonly title = signal('');
  /** The id of a conversation the last request created, for the page to show in its address. */
  readonly created = signal('');
  readonly loadState = signal<LoadState>('ready');
  readonly loadError = signal<FriendlyError | null>(null);

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
    try {
      sessionStorage.removeItem(LEGACY_STORAGE_KEY);
    } catch {
      // No storage: nothing to remove.
    }
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
      if (this.preferredModel && models.some((m) => m.id === this.preferredModel)) {
        this.modelId.set(this.preferredModel);
      } else if (!models.some((m) => m.id === this.modelId())) {
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

  /** Starts a new conversation. An answer still streaming into a kept conversation goes on being stored. */
  newChat(): void {
    if (this.list.historyEnabled() !== true) this.stop();
    this.view++;
    this.conversationId.set('');
    this.systemPromptNotKept.set(false);
    this.title.set('');
    this.created.set('');
    this.messages.set([]);
    this.error.set(null);
    this.loadState.set('ready');
    this.loadError.set(null);
  }

  /** Reads the open kept conversation again (an answer another tab was still writing). */
  async reload(): Promise<void> {
    const id = this.conversationId();
    if (!id || this.streaming()) return;
    this.conversationId.set('');
    await this.open(id);
  }

  /** Opens a kept conversation as it was stored: every message, stopped and failed answers included. */
  async open(id: string): Promise<void> {
    if (id === this.conversationId() && this.loadState() !== 'error') return;
    const view = ++this.view;
    this.conversationId.set(id);
    this.title.set(this.list.find(id)?.title ?? '');
    this.created.set('');
    this.messages.set([]);
    this.error.set(null);
    this.loadError.set(null);
    this.loadState.set('loading');
    try {
      const res = await this.conversationApi.getConversation({ conversationId: id });
      if (view !== this.view) return;
      this.messages.set(res.messages.map(fromStored));
      if (res.conversation) {
        this.title.set(res.conversation.title);
        this.list.remember(res.conversation);
      }
      this.restoreSettings(res.settings);
      const model =
        res.settings?.modelId || res.conversation?.modelId || [...res.messages].reverse().find((m) => m.modelId)?.modelId || '';
      if (model) {
        this.preferredModel = model;
        if (this.models().some((m) => m.id === model)) this.modelId.set(model);
      }
      this.loadState.set('ready');
    } catch (err) {
      if (view !== this.view) return;
      const e = describeError(err);
      // An id of no conversation of the caller's, or of no form an id has: nothing at this address.
      const code = ConnectError.from(err).code;
      // History off: nothing is kept for this person, so nothing is at any address.
      if (code === Code.FailedPrecondition) this.list.markHistoryOff();
      if (code === Code.NotFound || code === Code.InvalidArgument || code === Code.FailedPrecondition) {
        this.loadState.set('not-found');
      } else {
        this.loadState.set('error');
        this.loadError.set(e);
      }
    }
  }

  /**
   * Takes the settings the conversation's latest turn was sent with (kept by the server, so
   * they follow the person to any device); a conversation kept before settings were leaves
   * the current ones.
   */
  private restoreSettings(s: TurnSettings | undefined): void {
    this.systemPromptNotKept.set(!!s?.systemPromptNotKept);
    if (!s) return;
    const cfg = s.inferenceConfig;
    this.settings.update((cur) => ({
      systemPrompt: s.systemPromptNotKept ? cur.systemPrompt : s.systemPrompt,
      // float32 on the wire: 0.7 comes back as 0.699999988.
      temperature: cfg?.temperature !== undefined ? Math.round(cfg.temperature * 100) / 100 : cur.temperature,
      maxTokens: cfg?.maxTokens ?? cur.maxTokens,
    }));
    const kbs = this.knowledgeBases();
    this.knowledgeBaseId.set(kbs.length === 0 || kbs.some((kb) => kb.id === s.knowledgeBaseId) ? s.knowledgeBaseId : '');
  }

  /** Sends a user message and streams the answer. */
  async send(text: string, attachments: Attachment[] = []): Promise<void> {
    const trimmed = text.trim();
    if ((!trimmed && attachments.length === 0) || this.streaming() || this.loadState() !== 'ready') return;
    const user: ChatMessage = { id: newId(), role: 'user', text: trimmed, status: 'done' };
    if (attachments.length > 0) user.attachments = attachments;
    this.messages.update((list) => [...list, user]);
    await this.answer({ userId: user.id, parent: '' });
  }

  /** Replaces the last answer with a new one. */
  async regenerate(): Promise<void> {
    if (this.streaming()) return;
    let list = this.messages();
    if (list.length === 0) return;
    if (list[list.length - 1]!.role === 'assistant') list = list.slice(0, -1);
    const i = list.length - 1;
    const user = list[i];
    if (!user || user.role !== 'user') return;
    this.messages.set(list);
    await this.answer(this.turnAt(list, i));
  }

  /** Changes an earlier user message, drops everything after it and asks again. */
  async editAndResend(id: string, text: string): Promise<void> {
    if (this.streaming()) return;
    const list = this.messages();
    const i = list.findIndex((m) => m.id === id && m.role === 'user');
    if (i < 0 || !text.trim()) return;
    const edited: ChatMessage = { ...list[i]!, id: newId(), serverId: undefined, text: text.trim() };
    const next = [...list.slice(0, i), edited];
    this.messages.set(next);
    await this.answer(this.turnAt(next, i));
  }

  /**
   * Where the user message at i goes when it is sent again (regenerate, edit and resend):
   * after the answer before it, or at the start of the conversation, which the API names
   * with the conversation's own id. Everything after that point is replaced on the server.
   */
  private turnAt(list: ChatMessage[], i: number): Turn {
    const userId = list[i]!.id;
    if (i === 0) return { userId, parent: this.conversationId() };
    return { userId, parent: list[i - 1]!.serverId ?? '' };
  }

  /** Stops the answer in flight; the server stops generating and spending, and keeps the partial answer. */
  stop(): void {
    this.abort?.abort();
  }

  /** The conversation as Converse messages: roles alternate, starting with the user. */
  history(list: ChatMessage[] = this.messages()): Message[] {
    const out: Message[] = [];
    for (const m of list) {
      const content = contentOf(m);
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

  private async answer(turn: Turn): Promise<void> {
    const model = this.model();
    if (!model) return;
    this.error.set(null);
    const view = this.view;
    const kept = (await this.list.historyKnown()) !== false;
    if (view !== this.view) return;
    const user = this.messages().find((m) => m.id === turn.userId);
    if (!user) return;
    const settings = this.settings();
    let ref: ConversationRef | undefined;
    if (kept) {
      const conversationId = this.conversationId();
      ref = create(ConversationRefSchema, { conversationId, parentMessageId: conversationId ? turn.parent : '' });
    }
    const request = create(ConverseStreamRequestSchema, {
      modelId: model.id,
      messages: kept ? [create(MessageSchema, { role: Role.USER, content: contentOf(user) })] : this.history(),
      systemPrompt: model.capabilities?.systemPrompt ? settings.systemPrompt.trim() : '',
      inferenceConfig: { maxTokens: this.maxTokens(), temperature: settings.temperature },
      knowledgeBaseId: this.knowledgeBaseId(),
      conversation: ref,
    });
    const id = newId();
    this.messages.update((list) => [...list, { id, role: 'assistant', text: '', status: 'streaming', modelId: model.id }]);
    const abort = new AbortController();
    this.abort = abort;
    let received = false;
    let stored: ConversationTurn | undefined;
    const applyTurn = (t: ConversationTurn) => {
      stored = t;
      this.patch(turn.userId, (m) => ({ ...m, serverId: t.userMessageId || m.serverId }));
      this.patch(id, (m) => ({ ...m, serverId: t.assistantMessageId || m.serverId, droppedTurns: t.droppedTurns || undefined }));
      this.list.touch({ id: t.conversationId, title: t.title, modelId: model.id });
      if (view === this.view && t.conversationId) {
        const isNew = t.conversationId !== this.conversationId();
        this.conversationId.set(t.conversationId);
        if (t.title) this.title.set(t.title);
        if (isNew) this.created.set(t.conversationId);
      }
    };
    try {
      for await (const ev of this.api.inference.converseStream(request, { signal: abort.signal })) {
        switch (ev.event.case) {
          case 'start': {
            const requestId = ev.event.value.requestId;
            this.patch(id, (m) => ({ ...m, requestId }));
            break;
          }
          case 'conversation':
            applyTurn(ev.event.value);
            break;
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
      const ce = ConnectError.from(err);
      // A turn stored before the failure may be named in the error's details.
      const t = ce.findDetails(ConversationTurnSchema)[0];
      if (t && !stored) applyTurn(t);
      if (abort.signal.aborted || ce.code === Code.Canceled) {
        this.patch(id, (m) => ({ ...m, status: 'stopped' }));
      } else if (kept && ce.code === Code.FailedPrecondition && !stored && !this.conversationId()) {
        // History is off for this person (turned off since the list was read, or never kept by
        // this deployment): read the list again, and unless it says history is on, say so and
        // ask again without keeping the conversation.
        await this.list.load();
        if (this.list.historyEnabled() !== true && view === this.view) {
          this.list.markHistoryOff();
          this.messages.update((list) => list.filter((m) => m.id !== id));
          await this.answer({ userId: turn.userId, parent: '' });
          return;
        }
        this.fail(id, err, received);
      } else {
        this.fail(id, err, received);
      }
      if (kept && !stored && view === this.view && this.conversationId()) void this.resync(view);
    } finally {
      if (this.abort === abort) this.abort = null;
    }
  }

  private fail(id: string, err: unknown, received: boolean): void {
    const friendly = describeError(err, { streaming: received });
    this.patch(id, (m) => ({ ...m, status: 'error', error: friendly }));
    this.error.set(friendly);
  }

  /**
   * Reads the open conversation again after a turn ended before the server said where it
   * stored it, to learn the stored messages' ids (a later regenerate or edit names them).
   * The messages shown stay as they are when the server's branch does not line up with them.
   */
  private async resync(view: number): Promise<void> {
    try {
      const res = await this.conversationApi.getConversation({ conversationId: this.conversationId() });
      if (view !== this.view || this.streaming()) return;
      const local = this.messages();
      if (res.messages.length !== local.length) return;
      if (res.messages.some((m, i) => (m.role === Role.USER ? 'user' : 'assistant') !== local[i]!.role)) return;
      this.messages.set(local.map((m, i) => ({ ...m, serverId: res.messages[i]!.id })));
    } catch {
      // The ids stay unknown; a later turn follows the latest message.
    }
  }
}

/** The Converse content of a chat message: its text and its images. */
function contentOf(m: ChatMessage): ContentBlock[] {
  const content: ContentBlock[] = [];
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
  return content;
}
