import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  computed,
  effect,
  inject,
  input,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatMenuModule } from '@angular/material/menu';
import { MatTooltipModule } from '@angular/material/tooltip';
import { Router, RouterLink } from '@angular/router';
import type { Conversation } from '@gen/portico/conversation/v1/conversation_pb';
import { Icon } from '../core/icon';
import { ErrorBanner } from '../errors/error-banner';
import { ConversationsStore } from './conversations.store';
import { groupConversations } from './grouping';
import { readableParts, snippetParts } from './snippet';

/** How long typing pauses before the search runs. */
const SEARCH_DEBOUNCE_MS = 250;

/**
 * The conversation list beside the chat: new chat, search with highlighted matches, the
 * conversations grouped by when they last changed (pinned on top), and per conversation
 * rename (inline), pin and delete (with undo). When the server keeps no history for the
 * person, it says so instead.
 */
@Component({
  selector: 'app-conversation-sidebar',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatMenuModule, MatTooltipModule, RouterLink, Icon, ErrorBanner],
  templateUrl: './conversation-sidebar.html',
  styleUrl: './conversation-sidebar.scss',
})
export class ConversationSidebar {
  protected readonly store = inject(ConversationsStore);
  private readonly router = inject(Router);

  /** The open conversation's id (empty for a new chat). */
  readonly activeId = input('');
  /** Whether the open chat is a new, empty one (New chat would do nothing). */
  readonly empty = input(false);
  /** Asks the page to start a new chat. */
  readonly newChat = output<void>();
  /** Tells the page a conversation was picked (to close the list on small screens). */
  readonly picked = output<void>();

  protected readonly renamingId = signal<string | null>(null);
  protected readonly renameText = signal('');
  protected readonly now = signal(new Date());
  protected readonly groups = computed(() => groupConversations(this.store.conversations(), this.now()));
  protected readonly searchActive = computed(() => this.store.query().trim() !== '');

  private readonly searchBox = viewChild<ElementRef<HTMLInputElement>>('searchBox');
  private readonly renameBox = viewChild<ElementRef<HTMLInputElement>>('renameBox');
  private debounce?: ReturnType<typeof setTimeout>;

  protected readonly snippetParts = (s: Parameters<typeof snippetParts>[0]) => readableParts(snippetParts(s));

  constructor() {
    void this.store.load();
    // The sections follow the calendar: recompute them every minute.
    const tick = setInterval(() => this.now.set(new Date()), 60_000);
    inject(DestroyRef).onDestroy(() => {
      clearInterval(tick);
      clearTimeout(this.debounce);
    });
    effect(() => {
      const el = this.renameBox()?.nativeElement;
      if (el && untracked(this.renamingId)) {
        el.focus();
        el.select();
      }
    });
  }

  protected onSearchInput(value: string): void {
    this.store.query.set(value);
    clearTimeout(this.debounce);
    if (!value.trim()) {
      void this.store.search('');
      return;
    }
    this.debounce = setTimeout(() => void this.store.search(value), SEARCH_DEBOUNCE_MS);
  }

  protected onSearchKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Escape' && this.store.query()) {
      ev.preventDefault();
      this.clearSearch();
    } else if (ev.key === 'Enter') {
      clearTimeout(this.debounce);
      void this.store.search(this.store.query());
    }
  }

  protected clearSearch(): void {
    clearTimeout(this.debounce);
    void this.store.search('');
    this.searchBox()?.nativeElement.focus();
  }

  protected startRename(c: Conversation): void {
    this.renameText.set(c.title);
    this.renamingId.set(c.id);
  }

  protected async saveRename(): Promise<void> {
    const id = this.renamingId();
    if (!id) return;
    this.renamingId.set(null);
    await this.store.rename(id, this.renameText());
    this.focusItem(id);
  }

  protected cancelRename(): void {
    const id = this.renamingId();
    this.renamingId.set(null);
    if (id) this.focusItem(id);
  }

  protected onRenameKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Enter' && !ev.isComposing) {
      ev.preventDefault();
      void this.saveRename();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      this.cancelRename();
    }
  }

  protected togglePin(c: Conversation): void {
    void this.store.setPinned(c.id, !c.pinned);
  }

  protected remove(c: Conversation): void {
    this.store.remove(c.id);
    if (c.id === this.activeId()) void this.router.navigate(['/chat']);
    // The menu's trigger left with the conversation: keep the keyboard on the way back.
    setTimeout(() => document.querySelector<HTMLElement>('[data-testid="undo-delete"]')?.focus());
  }

  protected onNewChat(): void {
    this.newChat.emit();
  }

  private focusItem(id: string): void {
    setTimeout(() => document.querySelector<HTMLElement>(`[data-conversation-id="${CSS.escape(id)}"] .item-link`)?.focus());
  }

  protected titleOf(c: Conversation | undefined): string {
    return c?.title || $localize`:@@conversations.untitled:Untitled conversation`;
  }

  protected moreLabel(c: Conversation): string {
    return $localize`:@@conversations.more:Actions for ${this.titleOf(c)}:title:`;
  }

  protected readonly pinnedLabel = $localize`:@@conversations.pinnedMark:Pinned`;

  protected resultsLabel(n: number): string {
    if (n === 0) return $localize`:@@conversations.search.none:No conversation matches.`;
    if (n === 1) return $localize`:@@conversations.search.one:1 conversation matches.`;
    return $localize`:@@conversations.search.many:${n}:count: conversations match.`;
  }
}
