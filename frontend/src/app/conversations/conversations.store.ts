import { DestroyRef, Injectable, computed, inject, signal } from '@angular/core';
import { create, toJsonString } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  ConversationSchema,
  DeleteConversationRequestSchema,
  HistorySettingsSchema,
  type Conversation,
  type HistorySettings,
  type SearchResult,
} from '@gen/portico/conversation/v1/conversation_pb';
import { describeError, type FriendlyError } from '../core/errors';
import { CONTENT_SHA256_HEADER, CSRF_HEADER, sha256Hex } from '../core/transport';
import { ConversationApi } from './conversation-api';
import { updatedAt } from './grouping';

/** How long a deleted conversation can be brought back before it is deleted on the server. */
export const UNDO_MS = 5000;

/** The page size of the conversation list. */
export const PAGE_SIZE = 50;

/** A deletion waiting for its undo period to end. */
interface PendingDelete {
  conversation: Conversation;
  timer: ReturnType<typeof setTimeout>;
  /** The request body and its SHA-256, ready for a keepalive request when the page goes away. */
  body: string;
  hash?: string;
}

/** What a finished or started turn tells the list about its conversation. */
export interface TurnSummary {
  id: string;
  title: string;
  modelId?: string;
}

/**
 * The caller's conversations as the sidebar shows them: the list (pinned first, newest
 * first, paged), whether history is kept at all, the search, and the changes a person makes
 * (rename, pin, delete with an undo period). Deletions wait UNDO_MS in this root service, so
 * moving around the app does not lose or skip them; when the page goes away they are sent at
 * once with keepalive requests.
 */
@Injectable({ providedIn: 'root' })
export class ConversationsStore {
  private readonly api = inject(ConversationApi).client;
  private readonly pending = new Map<string, PendingDelete>();
  private loading?: Promise<void>;
  private searchSeq = 0;

  /** Every loaded conversation, deletions waiting for their undo period included. */
  private readonly all = signal<Conversation[]>([]);
  /** Ids of the deletions waiting for their undo period. */
  private readonly hidden = signal<ReadonlySet<string>>(new Set());

  /** The conversations to show. */
  readonly conversations = computed(() => {
    const hidden = this.hidden();
    return this.all().filter((c) => !hidden.has(c.id));
  });
  readonly history = signal<HistorySettings | null>(null);
  /** Whether the server keeps the caller's conversations; null until the list has loaded. */
  readonly historyEnabled = computed(() => {
    const h = this.history();
    return h ? h.enabled : null;
  });
  readonly loaded = signal(false);
  readonly busy = signal(false);
  readonly nextPageToken = signal('');
  readonly error = signal<FriendlyError | null>(null);

  /** The latest deletion that can still be undone. */
  readonly undoable = signal<Conversation | null>(null);

  readonly query = signal('');
  readonly results = signal<SearchResult[]>([]);
  readonly searching = signal(false);
  readonly searchError = signal<FriendlyError | null>(null);

  constructor() {
    const flush = () => this.flushDeletes();
    window.addEventListener('pagehide', flush);
    inject(DestroyRef).onDestroy(() => {
      window.removeEventListener('pagehide', flush);
      this.flushDeletes();
    });
  }

  /** Loads the first page (again), keeping what a person changed meanwhile. */
  load(): Promise<void> {
    this.loading ??= this.fetchFirst().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Resolves once whether history is kept is known (or the list could not be read). */
  async historyKnown(): Promise<boolean | null> {
    if (this.historyEnabled() === null) await this.load();
    return this.historyEnabled();
  }

  private async fetchFirst(): Promise<void> {
    this.busy.set(true);
    try {
      const res = await this.api.listConversations({ pageSize: PAGE_SIZE });
      this.history.set(res.history ?? null);
      this.all.set(res.conversations);
      this.nextPageToken.set(res.nextPageToken);
      this.loaded.set(true);
      this.error.set(null);
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.busy.set(false);
    }
  }

  /** Notes that the server keeps no history for the caller (it refused a kept turn). */
  markHistoryOff(): void {
    this.history.set(create(HistorySettingsSchema, { enabled: false }));
    this.all.set([]);
  }

  /** Loads the next page. */
  async loadMore(): Promise<void> {
    const token = this.nextPageToken();
    if (!token || this.busy()) return;
    this.busy.set(true);
    try {
      const res = await this.api.listConversations({ pageSize: PAGE_SIZE, pageToken: token });
      const have = new Set(this.all().map((c) => c.id));
      this.all.update((list) => [...list, ...res.conversations.filter((c) => !have.has(c.id))]);
      this.nextPageToken.set(res.nextPageToken);
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.busy.set(false);
    }
  }

  /** The conversation with this id, when loaded. */
  find(id: string): Conversation | undefined {
    return this.all().find((c) => c.id === id);
  }

  /** Notes that a conversation was created or continued just now (it moves to the top). */
  touch(turn: TurnSummary): void {
    const now = timestampNow();
    this.all.update((list) => {
      const old = list.find((c) => c.id === turn.id);
      const next = old
        ? { ...old, title: turn.title || old.title, modelId: turn.modelId || old.modelId, updateTime: now }
        : create(ConversationSchema, { id: turn.id, title: turn.title, modelId: turn.modelId ?? '', createTime: now, updateTime: now });
      return [next, ...list.filter((c) => c.id !== turn.id)];
    });
  }

  /** Puts a conversation read from the server into the list (for a deep link to an older one). */
  remember(c: Conversation): void {
    if (this.find(c.id)) {
      this.all.update((list) => list.map((x) => (x.id === c.id ? c : x)));
    } else {
      this.all.update((list) => [...list, c].sort((a, b) => updatedAt(b) - updatedAt(a)));
    }
  }

  /** Renames a conversation; the list shows the new title at once and goes back on failure. */
  async rename(id: string, title: string): Promise<boolean> {
    const t = title.trim().slice(0, 200);
    const old = this.find(id);
    if (!old || !t || t === old.title) return false;
    return this.update(old, { title: t }, ['title']);
  }

  /** Pins or unpins a conversation. */
  async setPinned(id: string, pinned: boolean): Promise<boolean> {
    const old = this.find(id);
    if (!old || old.pinned === pinned) return false;
    return this.update(old, { pinned }, ['pinned']);
  }

  private async update(old: Conversation, patch: { title?: string; pinned?: boolean }, paths: string[]): Promise<boolean> {
    const changed = { ...old, ...patch };
    this.replace(changed);
    try {
      const res = await this.api.updateConversation({
        conversation: create(ConversationSchema, { id: old.id, ...patch }),
        updateMask: { paths },
      });
      if (res.conversation) this.replace(res.conversation);
      this.error.set(null);
      return true;
    } catch (err) {
      this.replace(old);
      this.error.set(describeError(err));
      return false;
    }
  }

  private replace(c: Conversation): void {
    this.all.update((list) => list.map((x) => (x.id === c.id ? c : x)));
    this.results.update((list) => list.map((r) => (r.conversation?.id === c.id ? { ...r, conversation: c } : r)));
  }

  /**
   * Deletes a conversation after UNDO_MS unless undone: it leaves the list at once and the
   * undo offer shows; then DeleteConversation is called.
   */
  remove(id: string): void {
    const c = this.find(id) ?? this.results().find((r) => r.conversation?.id === id)?.conversation;
    if (!c || this.pending.has(id)) return;
    const body = toJsonString(DeleteConversationRequestSchema, create(DeleteConversationRequestSchema, { conversationId: id }));
    const p: PendingDelete = { conversation: c, body, timer: setTimeout(() => void this.commit(id), UNDO_MS) };
    void sha256Hex(new TextEncoder().encode(body)).then((h) => (p.hash = h));
    this.pending.set(id, p);
    this.hidden.update((s) => new Set(s).add(id));
    this.results.update((list) => list.filter((r) => r.conversation?.id !== id));
    this.undoable.set(c);
  }

  /** Brings back a conversation whose deletion is still waiting. */
  undo(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.unhide(id);
    if (!this.find(id)) this.remember(p.conversation);
    if (this.undoable()?.id === id) this.undoable.set(null);
  }

  /** Hides the undo offer (the deletion goes ahead). */
  dismissUndo(): void {
    this.undoable.set(null);
  }

  /** Whether a conversation is deleted or waiting to be. */
  isDeleted(id: string): boolean {
    return this.hidden().has(id);
  }

  private unhide(id: string): void {
    this.hidden.update((s) => {
      const n = new Set(s);
      n.delete(id);
      return n;
    });
  }

  private async commit(id: string): Promise<void> {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.undoable()?.id === id) this.undoable.set(null);
    try {
      await this.api.deleteConversation({ conversationId: id });
      this.all.update((list) => list.filter((c) => c.id !== id));
      this.unhide(id);
    } catch (err) {
      const e = describeError(err);
      if (e.kind === 'not-found') {
        this.all.update((list) => list.filter((c) => c.id !== id));
        this.unhide(id);
        return;
      }
      // Not deleted: show it again and say why.
      this.unhide(id);
      this.error.set(e);
    }
  }

  /** Sends every waiting deletion now, with requests that outlive the page. */
  flushDeletes(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      const headers: Record<string, string> = { 'Content-Type': 'application/json', [CSRF_HEADER]: '1' };
      if (p.hash) headers[CONTENT_SHA256_HEADER] = p.hash;
      try {
        void fetch('/api/portico.conversation.v1.ConversationService/DeleteConversation', {
          method: 'POST',
          headers,
          body: p.body,
          keepalive: true,
          credentials: 'same-origin',
        }).catch(() => undefined);
      } catch {
        // The page is going away; nothing else to do.
      }
    }
    this.undoable.set(null);
  }

  /** Searches the caller's conversations; a later search supersedes an earlier one. */
  async search(q: string): Promise<void> {
    const query = q.trim();
    this.query.set(q);
    const seq = ++this.searchSeq;
    if (!query) {
      this.results.set([]);
      this.searching.set(false);
      this.searchError.set(null);
      return;
    }
    this.searching.set(true);
    try {
      const res = await this.api.searchConversations({ query: query.slice(0, 200), pageSize: 20 });
      if (seq !== this.searchSeq) return;
      this.results.set(res.results.filter((r) => r.conversation && !this.hidden().has(r.conversation.id)));
      this.searchError.set(null);
    } catch (err) {
      if (seq !== this.searchSeq) return;
      this.results.set([]);
      this.searchError.set(describeError(err));
    } finally {
      if (seq === this.searchSeq) this.searching.set(false);
    }
  }

  /** Forgets everything (for tests and sign-out). */
  reset(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.all.set([]);
    this.hidden.set(new Set());
    this.history.set(null);
    this.loaded.set(false);
  }
}
