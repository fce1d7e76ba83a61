import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  afterRenderEffect,
  computed,
  effect,
  inject,
  input,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { Title } from '@angular/platform-browser';
import { Router } from '@angular/router';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSliderModule } from '@angular/material/slider';
import { MatTooltipModule } from '@angular/material/tooltip';
import { ImageFormat, type Model } from '@gen/portico/inference/v1/inference_pb';
import { ConversationSidebar } from '../conversations/conversation-sidebar';
import { ConversationsStore } from '../conversations/conversations.store';
import { Icon } from '../core/icon';
import { formatCount, formatMoney } from '../core/money';
import { ErrorBanner } from '../errors/error-banner';
import { checkImages, formatBytes, imageFormatOf, toBase64, type Attachment, type ChatMessage } from './chat.models';
import { ChatStore, FIRST_PAINT_MARK, FIRST_TOKEN_MARK } from './chat.store';
import { DocumentAttachments } from './attachments/document-attachments';
import { documentLabel } from './attachments/documents';
import { Citations } from './citations/citations';
import { KnowledgeBasePicker } from './knowledge-base-picker/knowledge-base-picker';

const MIME: Partial<Record<ImageFormat, string>> = {
  [ImageFormat.PNG]: 'image/png',
  [ImageFormat.JPEG]: 'image/jpeg',
  [ImageFormat.GIF]: 'image/gif',
  [ImageFormat.WEBP]: 'image/webp',
};

let paintPending = false;

/** Marks the frame that paints the first token of an answer (once per answer). */
function markFirstPaint(): void {
  if (paintPending || performance.getEntriesByName(FIRST_TOKEN_MARK, 'mark').length === 0) return;
  if (performance.getEntriesByName(FIRST_PAINT_MARK, 'mark').length > 0) return;
  paintPending = true;
  requestAnimationFrame(() => {
    paintPending = false;
    performance.mark(FIRST_PAINT_MARK);
  });
}
import { MarkdownView } from './markdown-view';

/** The chat: pick a model, talk to it, see what each answer cost. */
@Component({
  selector: 'app-chat-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [
    MatButtonModule,
    MatFormFieldModule,
    MatInputModule,
    MatSelectModule,
    MatSliderModule,
    MatTooltipModule,
    Icon,
    ErrorBanner,
    MarkdownView,
    DocumentAttachments,
    KnowledgeBasePicker,
    Citations,
    ConversationSidebar,
  ],
  host: { '(window:keydown)': 'onWindowKeydown($event)' },
  templateUrl: './chat.page.html',
  styleUrl: './chat.page.scss',
})
export class ChatPage {
  /** The conversation in the address (/chat/<id>); unset for a new chat. */
  readonly id = input<string>();
  /** A message to bring into view (a search result's), from ?m=. */
  readonly focusMessage = input<string | undefined>(undefined, { alias: 'm' });

  protected readonly store = inject(ChatStore);
  protected readonly conversations = inject(ConversationsStore);
  private readonly router = inject(Router);
  private readonly titleService = inject(Title);
  protected readonly sidebarOpen = signal(false);
  protected readonly draft = signal('');
  protected readonly pending = signal<Attachment[]>([]);
  protected readonly attachProblems = signal<string[]>([]);
  protected readonly showSettings = signal(false);
  protected readonly editingId = signal<string | null>(null);
  protected readonly editText = signal('');
  protected readonly stuckToBottom = signal(true);
  protected readonly copiedId = signal<string | null>(null);

  private readonly scroller = viewChild<ElementRef<HTMLElement>>('scroller');
  private readonly composer = viewChild<ElementRef<HTMLTextAreaElement>>('composer');
  private readonly documents = viewChild(DocumentAttachments);
  protected readonly documentLabel = documentLabel;
  /** Documents in the conversation and pending (Converse counts them all). */
  /** Bytes of every attachment in the conversation and pending. */
  protected readonly attachmentBytes = computed(
    () =>
      this.store.messages().reduce((n, m) => n + (m.attachments ?? []).reduce((k, a) => k + a.size, 0), 0) +
      this.pending().reduce((k, a) => k + a.size, 0),
  );
  protected readonly documentCount = computed(
    () =>
      this.store.messages().reduce((n, m) => n + (m.attachments?.filter((a) => a.kind === 'document').length ?? 0), 0) +
      this.pending().filter((a) => a.kind === 'document').length,
  );

  protected readonly canSend = computed(
    () =>
      !this.store.streaming() &&
      !!this.store.model() &&
      this.store.loadState() === 'ready' &&
      (this.draft().trim() !== '' || this.pending().length > 0),
  );
  /** The chat is still loading its models or the conversation: nothing can be sent yet. */
  protected readonly loadingChat = computed(() => this.store.modelsLoading() || this.store.loadState() === 'loading');
  /** Enter (or Send) was pressed while the chat loaded: the message goes as soon as it can. */
  protected readonly sendQueued = signal(false);
  protected readonly canQueue = computed(
    () => this.loadingChat() && !this.store.streaming() && (this.draft().trim() !== '' || this.pending().length > 0),
  );
  protected readonly imagesAllowed = computed(() => !!this.store.model()?.capabilities?.images);
  protected readonly maxOut = computed(() => Number(this.store.model()?.maxOutputTokens ?? 0) || 8192);

  protected readonly formatMoney = formatMoney;
  protected readonly formatCount = formatCount;
  protected readonly formatBytes = formatBytes;

  protected readonly isEmptyNewChat = computed(
    () => !this.store.conversationId() && this.store.messages().length === 0 && this.store.loadState() === 'ready',
  );
  protected readonly historyOff = computed(() => this.conversations.historyEnabled() === false);

  constructor() {
    void this.store.loadModels();
    // The address says which conversation is open: /chat for a new one, /chat/<id> for a kept one.
    effect(() => {
      const id = this.id() ?? '';
      untracked(() => {
        this.stuckToBottom.set(true);
        this.editingId.set(null);
        if (id) void this.store.open(id);
        else if (this.store.conversationId() || this.store.loadState() !== 'ready') this.store.newChat();
      });
    });
    // A conversation the first answer created gets its own address (replacing /chat in the history).
    effect(() => {
      const created = this.store.created();
      if (!created || created !== this.store.conversationId()) return;
      untracked(() => {
        this.store.created.set('');
        if (this.id() !== created) void this.router.navigate(['/chat', created], { replaceUrl: true });
      });
    });
    // A message queued while the chat loaded is sent once it has; if loading ends in a state
    // that cannot send (an error, an emptied draft), the queue is dropped and the text stays.
    effect(() => {
      if (!this.sendQueued()) return;
      const ready = this.canSend();
      const loading = this.loadingChat();
      untracked(() => {
        if (ready) {
          this.sendQueued.set(false);
          this.send();
        } else if (!loading) {
          this.sendQueued.set(false);
        }
      });
    });
    effect(() => {
      const t = this.store.title();
      this.titleService.setTitle(t ? $localize`:@@title.conversation:${t}:title: · Portico` : $localize`:@@title.chat:Chat · Portico`);
    });
    afterRenderEffect({
      write: () => {
        this.store.messages();
        const target = this.focusMessage();
        const el = this.scroller()?.nativeElement;
        if (target && this.store.loadState() === 'ready') {
          const found = el?.querySelector(`[data-message-id="${CSS.escape(target)}"]`);
          if (found) {
            found.scrollIntoView({ block: 'center' });
            this.stuckToBottom.set(false);
            return;
          }
        }
        if (el && this.stuckToBottom()) el.scrollTop = el.scrollHeight;
        markFirstPaint();
      },
    });
  }

  protected onScroll(): void {
    const el = this.scroller()?.nativeElement;
    if (!el) return;
    this.stuckToBottom.set(el.scrollHeight - el.scrollTop - el.clientHeight < 48);
  }

  protected jumpToLatest(): void {
    this.stuckToBottom.set(true);
    const el = this.scroller()?.nativeElement;
    if (el) el.scrollTop = el.scrollHeight;
  }

  protected onComposerKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Escape' && this.store.streaming()) {
      ev.preventDefault();
      this.stop();
      return;
    }
    if (ev.key === 'Escape' && this.sendQueued()) {
      ev.preventDefault();
      this.sendQueued.set(false);
      return;
    }
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      this.send();
    }
  }

  protected send(): void {
    if (!this.canSend()) {
      if (this.canQueue()) this.sendQueued.set(true);
      return;
    }
    const text = this.draft();
    const attachments = this.pending();
    this.draft.set('');
    this.pending.set([]);
    this.attachProblems.set([]);
    this.stuckToBottom.set(true);
    void this.store.send(text, attachments);
  }

  protected stop(): void {
    this.store.stop();
    this.composer()?.nativeElement.focus();
  }

  protected regenerate(): void {
    this.stuckToBottom.set(true);
    void this.store.regenerate();
  }

  protected startEdit(m: ChatMessage): void {
    this.editingId.set(m.id);
    this.editText.set(m.text);
  }

  protected cancelEdit(): void {
    this.editingId.set(null);
  }

  protected saveEdit(): void {
    const id = this.editingId();
    if (!id) return;
    this.editingId.set(null);
    this.stuckToBottom.set(true);
    void this.store.editAndResend(id, this.editText());
  }

  protected onEditKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      this.saveEdit();
    } else if (ev.key === 'Escape') {
      this.cancelEdit();
    }
  }

  protected async copy(m: ChatMessage): Promise<void> {
    try {
      await navigator.clipboard.writeText(m.text);
      this.copiedId.set(m.id);
      setTimeout(() => this.copiedId.set(null), 1500);
    } catch {
      // Clipboard denied; nothing else to do.
    }
  }

  protected newChat(): void {
    this.sidebarOpen.set(false);
    if (this.id()) {
      void this.router.navigate(['/chat']).then(() => this.composer()?.nativeElement.focus());
    } else {
      this.store.newChat();
      this.composer()?.nativeElement.focus();
    }
  }

  /** Ctrl/⌘+Shift+O starts a new chat, Ctrl/⌘+Shift+F goes to the conversation search. */
  protected onWindowKeydown(ev: KeyboardEvent): void {
    if (!(ev.ctrlKey || ev.metaKey) || !ev.shiftKey || ev.altKey) return;
    const key = ev.key.toLowerCase();
    if (key === 'o') {
      ev.preventDefault();
      this.newChat();
    } else if (key === 'f') {
      const search = document.getElementById('conversation-search');
      if (!search) return;
      ev.preventDefault();
      this.sidebarOpen.set(true);
      search.focus();
    }
  }

  protected retryOpen(): void {
    const id = this.id();
    if (id) void this.store.open(id);
  }

  protected droppedLabel(n: number): string {
    return n === 1
      ? $localize`:@@chat.dropped.one:The oldest message no longer fits this model's context window and was not sent with this question.`
      : $localize`:@@chat.dropped.many:The ${n}:count: oldest messages no longer fit this model's context window and were not sent with this question.`;
  }

  protected async onFiles(input: HTMLInputElement): Promise<void> {
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length === 0) return;
    // Converse counts every image of the request, so earlier turns' images count too.
    const images = (list: Attachment[] | undefined) => list?.filter((a) => a.kind !== 'document').length ?? 0;
    const earlier = this.store.messages().reduce((n, m) => n + images(m.attachments), 0);
    const problems = checkImages(files, earlier + images(this.pending()), this.store.model());
    this.attachProblems.set(problems);
    if (problems.length > 0) return;
    const added: Attachment[] = [];
    for (const f of files) {
      added.push({
        name: f.name,
        size: f.size,
        format: imageFormatOf(f.type)!,
        base64: toBase64(new Uint8Array(await f.arrayBuffer())),
      });
    }
    this.pending.update((p) => [...p, ...added]);
  }

  protected removeAttachment(i: number): void {
    this.pending.update((p) => p.filter((_, j) => j !== i));
  }

  protected onModelChange(id: string): void {
    this.store.modelId.set(id);
    if (!this.imagesAllowed() && this.pending().some((a) => a.kind !== 'document')) {
      this.pending.update((p) => p.filter((a) => a.kind === 'document'));
      this.attachProblems.set([$localize`:@@chat.images.removed:Images were removed: the selected model does not accept them.`]);
    }
    if (!this.store.model()?.capabilities?.documents && this.pending().some((a) => a.kind === 'document')) {
      this.pending.update((p) => p.filter((a) => a.kind !== 'document'));
      this.attachProblems.set([$localize`:@@chat.docs.removed:Documents were removed: the selected model does not accept them.`]);
    }
    const kb = this.store.knowledgeBases().find((k) => k.id === this.store.knowledgeBaseId());
    if (kb && kb.modelId !== id) this.store.knowledgeBaseId.set('');
  }

  /** Picks a knowledge base: its answering model becomes the conversation's model. */
  protected onKnowledgeBase(id: string): void {
    this.store.knowledgeBaseId.set(id);
    const kb = this.store.knowledgeBases().find((k) => k.id === id);
    if (kb && this.store.models().some((m) => m.id === kb.modelId)) this.store.modelId.set(kb.modelId);
  }

  protected onDocuments(docs: Attachment[]): void {
    this.pending.update((p) => [...p, ...docs]);
  }

  /** Files dropped on the composer: images to the image path, the rest as documents. */
  protected onDrop(ev: DragEvent): void {
    const files = Array.from(ev.dataTransfer?.files ?? []);
    if (files.length === 0) return;
    ev.preventDefault();
    void this.addDroppedOrPasted(files);
  }

  /** Files pasted into the composer (text pastes are left alone). */
  protected onPaste(ev: ClipboardEvent): void {
    const files = Array.from(ev.clipboardData?.files ?? []);
    if (files.length === 0) return;
    ev.preventDefault();
    void this.addDroppedOrPasted(files);
  }

  private async addDroppedOrPasted(files: File[]): Promise<void> {
    const images = files.filter((f) => imageFormatOf(f.type) !== undefined);
    const docs = files.filter((f) => imageFormatOf(f.type) === undefined);
    if (docs.length > 0) await this.documents()?.addFiles(docs);
    if (images.length > 0) {
      const dt = new DataTransfer();
      images.forEach((f) => dt.items.add(f));
      await this.onFiles({ files: dt.files, value: '' } as unknown as HTMLInputElement);
    }
  }

  protected setMaxTokens(v: string): void {
    const n = Math.max(1, Math.min(this.maxOut(), Math.floor(Number(v) || 1)));
    this.store.updateSettings({ maxTokens: n });
  }

  protected dataUrl(a: Attachment): string {
    return `data:${(a.format !== undefined && MIME[a.format]) || 'image/png'};base64,${a.base64}`;
  }

  protected modelName(id: string | undefined): string {
    return this.store.models().find((m) => m.id === id)?.displayName || id || '';
  }

  protected caps(m: Model): string[] {
    const c = m.capabilities;
    const out: string[] = [];
    if (c?.streaming) out.push($localize`:@@chat.cap.streaming:Streaming`);
    if (c?.images) out.push($localize`:@@chat.cap.images:Images`);
    if (c?.documents) out.push($localize`:@@chat.cap.documents:Documents`);
    if (c?.systemPrompt) out.push($localize`:@@chat.cap.system:System prompt`);
    return out;
  }

  protected prices(m: Model): string {
    const p = m.pricing;
    if (!p) return '';
    return $localize`:@@chat.prices:${formatMoney(p.inputPer1kTokens)}:in: in · ${formatMoney(p.outputPer1kTokens)}:out: out per 1k tokens (estimate)`;
  }

  protected contextLabel(m: Model): string {
    return $localize`:@@chat.context:${formatCount(m.contextWindow)}:ctx: context · ${formatCount(m.maxOutputTokens)}:out: max output`;
  }

  protected usePrompt(text: string): void {
    this.draft.set(text);
    this.composer()?.nativeElement.focus();
  }

  protected readonly copyLabel = $localize`:@@chat.copy:Copy message`;
  protected readonly copiedLabel = $localize`:@@chat.copied:Copied`;

  protected removeLabel(name: string): string {
    return $localize`:@@chat.removeAttachment:Remove ${name}:name:`;
  }

  protected readonly suggestions = [
    $localize`:@@chat.suggest.1:Summarise the key points of a document I paste`,
    $localize`:@@chat.suggest.2:Write a SQL query that finds duplicate customers`,
    $localize`:@@chat.suggest.3:Explain the difference between TCP and UDP in a table`,
  ];
}
