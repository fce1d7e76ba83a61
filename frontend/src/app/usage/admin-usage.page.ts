import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatTabsModule } from '@angular/material/tabs';
import { UsageDimension, type AuditEvent, type ListUsageResponse, type UsageRow } from '@gen/portico/admin/v1/admin_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { Icon } from '../core/icon';
import { formatCount, formatMoney, moneyToNumber } from '../core/money';
import { ErrorBanner } from '../errors/error-banner';
import { durationMs } from '../chat/chat.models';
import { ConversationCounts } from './conversation-counts';
import { UsageChart, type Bar } from './usage-chart';
import { formatTime, isoDay, toCsv } from './usage-format';

const DIMENSIONS: { dim: UsageDimension; key: 'user' | 'department' | 'group' | 'modelId' | 'day'; label: string }[] = [
  { dim: UsageDimension.USER, key: 'user', label: $localize`:@@admin.dim.user:User` },
  { dim: UsageDimension.DEPARTMENT, key: 'department', label: $localize`:@@admin.dim.department:Department` },
  { dim: UsageDimension.GROUP, key: 'group', label: $localize`:@@admin.dim.group:Group` },
  { dim: UsageDimension.MODEL, key: 'modelId', label: $localize`:@@admin.dim.model:Model` },
  { dim: UsageDimension.DAY, key: 'day', label: $localize`:@@admin.dim.day:Day` },
];

/** The label of a usage row from the dimensions it is grouped by. */
export function rowLabel(r: UsageRow, dims: readonly UsageDimension[]): string {
  const parts = DIMENSIONS.filter((d) => dims.includes(d.dim)).map((d) => r[d.key] || '—');
  return parts.length > 0 ? parts.join(' · ') : $localize`:@@admin.all:All`;
}

/** The usage rows as CSV. */
export function usageCsv(rows: readonly UsageRow[]): string {
  return toCsv(
    ['day', 'user', 'department', 'group', 'model_id', 'requests', 'errors', 'input_tokens', 'output_tokens', 'total_tokens', 'estimated_cost', 'currency'],
    rows.map((r) => {
      const t = r.totals;
      return [
        r.day,
        r.user,
        r.department,
        r.group,
        r.modelId,
        t?.requests ?? 0n,
        t?.errors ?? 0n,
        t?.inputTokens ?? 0n,
        t?.outputTokens ?? 0n,
        t?.totalTokens ?? 0n,
        moneyToNumber(t?.estimatedCost).toFixed(9).replace(/0+$/, '').replace(/\.$/, ''),
        t?.estimatedCost?.currencyCode ?? '',
      ];
    }),
  );
}

/** Usage across everyone (for usage administrators), the audit trail and the conversations kept (counts only). */
@Component({
  selector: 'app-admin-usage-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatCheckboxModule, MatTabsModule, Icon, ErrorBanner, UsageChart, ConversationCounts],
  templateUrl: './admin-usage.page.html',
  styleUrl: './admin-usage.page.scss',
})
export class AdminUsagePage {
  private readonly api = inject(Api);
  protected readonly dimensions = DIMENSIONS;
  protected readonly start = signal(isoDay(new Date(Date.now() - 29 * 86_400_000)));
  protected readonly end = signal(isoDay(new Date()));
  protected readonly groupBy = signal<UsageDimension[]>([UsageDimension.USER]);
  /** Only usage by callers of this department, when set. */
  protected readonly department = signal('');
  protected readonly usage = signal<ListUsageResponse | null>(null);
  protected readonly loading = signal(false);
  protected readonly error = signal<FriendlyError | null>(null);

  protected readonly events = signal<AuditEvent[]>([]);
  protected readonly pageTokens = signal<string[]>(['']);
  protected readonly nextToken = signal('');
  protected readonly auditLoading = signal(false);
  protected readonly auditError = signal<FriendlyError | null>(null);
  protected readonly auditLoaded = signal(false);

  protected readonly formatCount = formatCount;
  protected readonly formatMoney = formatMoney;
  protected readonly formatTime = formatTime;
  protected readonly durationMs = durationMs;

  protected readonly rows = computed(() => this.usage()?.rows ?? []);
  protected readonly bars = computed<Bar[]>(() => {
    const dims = this.groupBy();
    const rows = [...this.rows()];
    if (!dims.includes(UsageDimension.DAY)) rows.sort((a, b) => Number((b.totals?.totalTokens ?? 0n) - (a.totals?.totalTokens ?? 0n)));
    return rows.map((r) => ({
      label: rowLabel(r, dims),
      value: Number(r.totals?.totalTokens ?? 0n),
      detail: `${formatCount(r.totals?.totalTokens)} tok · ${formatMoney(r.totals?.estimatedCost)}`,
    }));
  });
  protected readonly rangeProblem = computed(() =>
    this.start() > this.end() ? $localize`:@@admin.range:The start day must not be after the end day.` : null,
  );

  constructor() {
    void this.loadUsage();
  }

  /** Whether an audit record is an administrative action (no model, tokens or cost). */
  protected isAdminCall(e: AuditEvent): boolean {
    return e.procedure.startsWith('/portico.admin.');
  }

  protected label(r: UsageRow): string {
    return rowLabel(r, this.groupBy());
  }

  protected toggleDim(d: UsageDimension, on: boolean): void {
    this.groupBy.update((g) => (on ? [...g.filter((x) => x !== d), d].sort() : g.filter((x) => x !== d)));
    void this.loadUsage();
  }

  protected async loadUsage(): Promise<void> {
    if (this.rangeProblem()) return;
    this.loading.set(true);
    this.error.set(null);
    try {
      this.usage.set(
        await this.api.admin.listUsage({
          startDay: this.start(),
          endDay: this.end(),
          groupBy: this.groupBy(),
          department: this.department().trim(),
        }),
      );
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected exportCsv(): void {
    const blob = new Blob([usageCsv(this.rows())], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `portico-usage-${this.start()}-${this.end()}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  protected onTab(index: number): void {
    if (index === 1 && !this.auditLoaded()) void this.loadAudit(0);
  }

  /** Loads audit page `i` (0 = newest) of the current range. */
  protected async loadAudit(i: number): Promise<void> {
    this.auditLoading.set(true);
    this.auditError.set(null);
    try {
      const tokens = this.pageTokens();
      const res = await this.api.admin.listAuditEvents({
        startTime: timestampFromDate(new Date(`${this.start()}T00:00:00Z`)),
        endTime: timestampFromDate(new Date(new Date(`${this.end()}T00:00:00Z`).getTime() + 86_400_000)),
        pageSize: 25,
        pageToken: tokens[i] ?? '',
      });
      this.events.set(res.events);
      this.nextToken.set(res.nextPageToken);
      this.pageTokens.set(res.nextPageToken ? [...tokens.slice(0, i + 1), res.nextPageToken] : tokens.slice(0, i + 1));
      this.page.set(i);
      this.auditLoaded.set(true);
    } catch (err) {
      this.auditError.set(describeError(err));
    } finally {
      this.auditLoading.set(false);
    }
  }

  protected readonly page = signal(0);

  protected refresh(): void {
    void this.loadUsage();
    if (this.auditLoaded()) {
      this.pageTokens.set(['']);
      void this.loadAudit(0);
    }
  }
}
