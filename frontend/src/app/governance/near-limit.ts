import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import type { NearLimit } from '@gen/portico/admin/v1/policy_pb';
import { QuotaSubject } from '@gen/portico/type/v1/quota_pb';
import { meterLabel, meterOfAlert } from '../alerts/quota-alerts';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { Icon } from '../core/icon';
import { ErrorBanner } from '../errors/error-banner';
import { formatTime } from '../usage/usage-format';

/** Entries per page of ListNearLimit. */
export const NEAR_PAGE_SIZE = 100;

/** One row of the near-limit list, ready to show. */
export interface NearLimitRow {
  who: string;
  department: string;
  limit: string;
  used: string;
  left: string;
  percent: number;
  threshold: number;
  resets: string;
  crossed: string;
}

/** A NearLimit entry in words: who (a person or a whole group), which limit, how far. */
export function nearLimitRow(e: NearLimit): NearLimitRow {
  const s = e.alert?.status;
  const m = meterOfAlert(e.alert ?? ({ thresholdPercent: 0 } as never));
  const isGroup = s?.limit?.subject === QuotaSubject.GROUP;
  return {
    who: isGroup ? $localize`:@@near.group:Group ${s?.limit?.group ?? ''}:group:` : e.user,
    department: e.department,
    limit: s ? meterLabel(s, true) : '',
    used: `${m.format(m.used)} / ${m.format(m.limit)}`,
    left: m.format(m.remaining ?? 0n),
    percent: m.limit > 0n ? Number((m.used * 100n) / m.limit) : 0,
    threshold: e.alert?.thresholdPercent ?? 0,
    resets: formatTime(s?.resetsAt),
    crossed: formatTime(e.crossedAt),
  };
}

/** Who is past 80 % or 100 % of a quota or budget in the current day and month, a page at a time. */
@Component({
  selector: 'app-near-limit',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon, ErrorBanner],
  template: `
    <div class="head">
      <p class="muted" i18n="@@near.intro">People and groups past 80 % or 100 % of a quota or budget in its current window, highest first.</p>
      <button mat-stroked-button type="button" (click)="load(true)" [disabled]="loading()" data-testid="near-refresh">
        <app-icon name="refresh" /> <span i18n="@@near.refresh">Refresh</span>
      </button>
    </div>
    @if (error(); as e) {
      <app-error-banner [error]="e" (retry)="load(!loaded())" (dismiss)="error.set(null)" />
    }
    @if (loaded()) {
      <div class="table-wrap card">
        <table class="data" data-testid="near-table">
          <caption class="visually-hidden" i18n="@@near.caption">People and groups near a limit</caption>
          <thead>
            <tr>
              <th scope="col" i18n="@@near.who">Who</th>
              <th scope="col" i18n="@@near.department">Department</th>
              <th scope="col" i18n="@@near.limit">Limit</th>
              <th scope="col" class="num" i18n="@@near.used">Used</th>
              <th scope="col" class="num" i18n="@@near.left">Left</th>
              <th scope="col" i18n="@@near.resets">Resets</th>
              <th scope="col" i18n="@@near.crossed">Crossed</th>
            </tr>
          </thead>
          <tbody>
            @for (r of rows(); track $index) {
              <tr data-testid="near-row" [attr.data-who]="r.who" [attr.data-threshold]="r.threshold">
                <td data-testid="near-who">{{ r.who }}</td>
                <td>{{ r.department || '—' }}</td>
                <td data-testid="near-limit">{{ r.limit }}</td>
                <td class="num"><span class="chip" [class.bad]="r.threshold >= 100" data-testid="near-threshold">{{ r.percent }} %</span><br><span class="muted small">{{ r.used }}</span></td>
                <td class="num">{{ r.left }}</td>
                <td>{{ r.resets }}</td>
                <td>{{ r.crossed }}</td>
              </tr>
            } @empty {
              <tr><td colspan="7" class="muted" data-testid="near-empty" i18n="@@near.empty">Nobody is near a limit.</td></tr>
            }
          </tbody>
        </table>
      </div>
      @if (next()) {
        <button mat-stroked-button type="button" class="more" (click)="load(false)" [disabled]="loading()" data-testid="near-more" i18n="@@near.more">Load more</button>
      }
      @if (loading()) { <p class="muted" i18n="@@near.loadingMore">Loading…</p> }
    } @else if (loading()) {
      <p class="muted" i18n="@@near.loading">Loading…</p>
    }
  `,
  styles: `
    :host { display: flex; flex-direction: column; gap: 12px; }
    .head { display: flex; align-items: center; justify-content: space-between; gap: 12px; flex-wrap: wrap; }
    .head p { margin: 0; }
    .table-wrap { overflow-x: auto; padding: 0; }
    .small { font: var(--mat-sys-body-small); }
    .chip.bad { background: var(--mat-sys-error-container); color: var(--mat-sys-on-error-container); }
    .more { align-self: center; }
  `,
})
export class NearLimitList {
  private readonly api = inject(Api);
  protected readonly entries = signal<NearLimit[]>([]);
  protected readonly rows = computed(() => this.entries().map(nearLimitRow));
  protected readonly loading = signal(false);
  protected readonly loaded = signal(false);
  protected readonly next = signal('');
  protected readonly error = signal<FriendlyError | null>(null);

  constructor() {
    void this.load(true);
  }

  /** Loads the first page (fresh) or the next one. */
  async load(fresh: boolean): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      const res = await this.api.admin.listNearLimit({ pageSize: NEAR_PAGE_SIZE, pageToken: fresh ? '' : this.next() });
      this.entries.set(fresh ? res.entries : [...this.entries(), ...res.entries]);
      this.next.set(res.nextPageToken);
      this.loaded.set(true);
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }
}
