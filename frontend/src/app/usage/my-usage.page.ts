import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import type { GetUsageResponse } from '@gen/portico/inference/v1/inference_pb';
import type { QuotaStatus } from '@gen/portico/type/v1/quota_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { formatCount, formatMoney } from '../core/money';
import { ErrorBanner } from '../errors/error-banner';
import { formatTime, quotaLabel } from './usage-format';

/** The caller's usage against their quotas. */
@Component({
  selector: 'app-my-usage-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatProgressBarModule, ErrorBanner],
  template: `
    <div class="page" data-testid="my-usage-page">
      <div class="head">
        <h1 i18n="@@usage.title">My usage</h1>
        <button mat-stroked-button type="button" (click)="load()" [disabled]="loading()" data-testid="usage-refresh" i18n="@@usage.refresh">Refresh</button>
      </div>
      @if (error(); as e) {
        <app-error-banner [error]="e" (retry)="load()" (dismiss)="error.set(null)" />
      }
      @if (usage(); as u) {
        <div class="totals">
          @for (t of [{ label: todayLabel, v: u.today, id: 'today' }, { label: monthLabel, v: u.thisMonth, id: 'month' }]; track t.id) {
            <section class="card total" [attr.data-testid]="'usage-' + t.id">
              <h2>{{ t.label }}</h2>
              <div class="big" data-testid="usage-tokens">{{ formatCount(t.v?.totalTokens) }} <span class="unit" i18n="@@usage.tokens">tokens</span></div>
              <div class="muted">
                <span i18n="@@usage.requests" data-testid="usage-requests">{{ formatCount(t.v?.requests) }} requests</span> ·
                <span i18n="@@usage.cost" data-testid="usage-cost">≈ {{ formatMoney(t.v?.estimatedCost) }} (estimate)</span>
              </div>
              <div class="muted small" i18n="@@usage.inOut" data-testid="usage-in-out">{{ formatCount(t.v?.inputTokens) }} in · {{ formatCount(t.v?.outputTokens) }} out · {count(t.v?.errors), plural, =0 {no errors} =1 {1 error} other {{{ formatCount(t.v?.errors) }} errors}}</div>
            </section>
          }
        </div>
        <section class="card" aria-labelledby="quotas-title">
          <h2 id="quotas-title" i18n="@@usage.quotas">Quotas</h2>
          @for (q of u.quotas; track $index) {
            <div class="quota" data-testid="quota">
              <div class="quota-head">
                <strong>{{ quotaLabel(q.limit) }}</strong>
                <span class="muted" data-testid="quota-used">{{ formatCount(q.used) }} / {{ formatCount(q.limit?.limit) }}</span>
              </div>
              <mat-progress-bar mode="buffer" [value]="pct(q, false)" [bufferValue]="pct(q, true)"
                                [attr.aria-label]="quotaLabel(q.limit)" />
              <div class="muted small">
                <span i18n="@@usage.remaining" data-testid="quota-remaining">{{ formatCount(q.remaining) }} remaining</span>
                @if (q.reserved > 0) { · <span i18n="@@usage.reserved">{{ formatCount(q.reserved) }} held by requests in flight</span> }
                · <span i18n="@@usage.resets">resets {{ formatTime(q.resetsAt) }}</span>
              </div>
            </div>
          } @empty {
            <p class="muted" i18n="@@usage.noQuotas">No quotas apply to you.</p>
          }
        </section>
        <p class="muted small" i18n="@@usage.asOf">As of {{ formatTime(u.asOf) }} · price table {{ u.priceTableVersion }}. Costs are estimates.</p>
      } @else if (loading()) {
        <p class="muted" i18n="@@usage.loading">Loading your usage…</p>
      }
    </div>
  `,
  styles: `
    .head { display: flex; align-items: center; justify-content: space-between; }
    .totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
    .card { padding: 20px; }
    h2 { font: var(--mat-sys-title-medium); margin: 0 0 8px; }
    .big { font: var(--mat-sys-display-small); }
    .unit { font: var(--mat-sys-title-medium); color: var(--mat-sys-on-surface-variant); }
    .small { font: var(--mat-sys-body-small); }
    .quota { display: flex; flex-direction: column; gap: 6px; padding: 12px 0; border-bottom: 1px solid var(--mat-sys-outline-variant); }
    .quota:last-child { border-bottom: 0; }
    .quota-head { display: flex; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
  `,
})
export class MyUsagePage {
  private readonly api = inject(Api);
  protected readonly usage = signal<GetUsageResponse | null>(null);
  protected readonly loading = signal(false);
  protected readonly error = signal<FriendlyError | null>(null);
  protected readonly formatCount = formatCount;
  protected readonly formatMoney = formatMoney;
  protected readonly formatTime = formatTime;
  protected readonly quotaLabel = quotaLabel;
  protected readonly todayLabel = $localize`:@@usage.today:Today`;
  protected readonly monthLabel = $localize`:@@usage.month:This month`;

  constructor() {
    void this.load();
  }

  protected async load(): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      this.usage.set(await this.api.inference.getUsage({}));
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected count(n: bigint | undefined): number {
    return Number(n ?? 0);
  }

  protected pct(q: QuotaStatus, withReserved: boolean): number {
    const limit = Number(q.limit?.limit ?? 0);
    if (limit <= 0) return 0;
    const v = Number(q.used) + (withReserved ? Number(q.reserved) : 0);
    return Math.min(100, (v / limit) * 100);
  }
}
