import { ChangeDetectionStrategy, Component, inject, signal, type OnInit } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import type { ConversationCount } from '@gen/portico/admin/v1/admin_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { formatCount } from '../core/money';
import { ErrorBanner } from '../errors/error-banner';
import { formatBytes } from '../chat/chat.models';

/** People per page of ListConversationCounts. */
export const COUNTS_PAGE_SIZE = 100;

/**
 * What the server keeps per person (conversations, messages, size), for usage administrators:
 * numbers only, never a title or content. It loads when shown, a page at a time.
 */
@Component({
  selector: 'app-conversation-counts',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, ErrorBanner],
  template: `
    <div class="counts" data-testid="conversation-counts">
      <p class="muted small" i18n="@@admin.conv.note">
        How many conversations each person keeps on the server, in numbers only: administrators never see titles or content.
      </p>
      @if (error(); as e) {
        <app-error-banner [error]="e" (retry)="load(people().length === 0)" (dismiss)="error.set(null)" />
      }
      @if (totals(); as t) {
        <div class="summary" data-testid="conv-totals">
          <span><strong data-testid="conv-total-people">{{ formatCount(t.people) }}</strong> <span i18n="@@admin.conv.people">people</span></span>
          <span><strong data-testid="conv-total-conversations">{{ formatCount(t.conversations) }}</strong> <span i18n="@@admin.conv.conversations">conversations</span></span>
          <span><strong data-testid="conv-total-messages">{{ formatCount(t.messages) }}</strong> <span i18n="@@admin.conv.messages">messages</span></span>
          <span><strong data-testid="conv-total-bytes">{{ formatBytes(Number(t.bytes)) }}</strong> <span i18n="@@admin.conv.kept">kept</span></span>
          @if (next()) {
            <span class="muted small" data-testid="conv-partial" i18n="@@admin.conv.partial">(so far: more people to load)</span>
          }
        </div>
        <div class="table-wrap card">
          <table class="data" data-testid="conv-table">
            <caption class="visually-hidden" i18n="@@admin.conv.caption">Conversations kept per person</caption>
            <thead>
              <tr>
                <th scope="col" i18n="@@admin.conv.col.person">Person</th>
                <th scope="col" class="num" i18n="@@admin.conv.col.conversations">Conversations</th>
                <th scope="col" class="num" i18n="@@admin.conv.col.messages">Messages</th>
                <th scope="col" class="num" i18n="@@admin.conv.col.size">Size</th>
              </tr>
            </thead>
            <tbody>
              @for (p of people(); track p.subject) {
                <tr data-testid="conv-row">
                  <td>
                    @if (p.user) {<span data-testid="conv-user">{{ p.user }}</span><br>}
                    <span class="muted small" data-testid="conv-subject">{{ p.subject }}</span>
                  </td>
                  <td class="num" data-testid="conv-conversations">{{ formatCount(p.conversations) }}</td>
                  <td class="num" data-testid="conv-messages">{{ formatCount(p.messages) }}</td>
                  <td class="num" data-testid="conv-bytes">{{ formatBytes(Number(p.bytes)) }}</td>
                </tr>
              } @empty {
                <tr><td colspan="4" class="muted" data-testid="conv-empty" i18n="@@admin.conv.none">Nobody keeps a conversation.</td></tr>
              }
            </tbody>
          </table>
        </div>
        @if (next()) {
          <button mat-stroked-button type="button" (click)="load(false)" [disabled]="loading()" data-testid="conv-more" i18n="@@admin.conv.more">Load more people</button>
        }
      } @else if (loading()) {
        <p class="muted" i18n="@@admin.conv.loading">Counting conversations…</p>
      }
    </div>
  `,
  styles: `
    .counts { display: flex; flex-direction: column; gap: 16px; align-items: stretch; }
    .summary { display: flex; flex-wrap: wrap; gap: 24px; align-items: baseline; }
    .table-wrap { overflow-x: auto; padding: 0; }
    .small { font: var(--mat-sys-body-small); }
    button { align-self: center; }
  `,
})
export class ConversationCounts implements OnInit {
  private readonly api = inject(Api);
  protected readonly people = signal<ConversationCount[]>([]);
  protected readonly totals = signal<ConversationCount | null>(null);
  protected readonly next = signal('');
  protected readonly loading = signal(false);
  protected readonly error = signal<FriendlyError | null>(null);
  protected readonly formatCount = formatCount;
  protected readonly formatBytes = formatBytes;
  protected readonly Number = Number;

  ngOnInit(): void {
    void this.load(true);
  }

  /** Loads the first page (fresh) or the next one. */
  protected async load(fresh: boolean): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      const res = await this.api.admin.listConversationCounts({ pageSize: COUNTS_PAGE_SIZE, pageToken: fresh ? '' : this.next() });
      this.people.set(fresh ? res.people : [...this.people(), ...res.people]);
      this.totals.set(res.totals ?? null);
      this.next.set(res.nextPageToken);
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }
}
