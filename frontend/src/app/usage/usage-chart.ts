import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

/** One bar of the chart. */
export interface Bar {
  label: string;
  value: number;
  detail: string;
}

/** A plain SVG bar chart (no chart library): one bar per row, largest first when many. */
@Component({
  selector: 'app-usage-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <svg [attr.viewBox]="'0 0 ' + width + ' ' + height()" class="chart" role="img" [attr.aria-label]="title()" data-testid="usage-chart">
      @for (b of layout(); track $index) {
        <g>
          <title>{{ b.label }}: {{ b.detail }}</title>
          <text class="lbl" [attr.x]="labelWidth - 8" [attr.y]="b.y + barHeight / 2 + 4" text-anchor="end">{{ b.short }}</text>
          <rect class="bar" [attr.x]="labelWidth" [attr.y]="b.y" [attr.width]="b.w" [attr.height]="barHeight" rx="4" />
          <text class="val" [attr.x]="labelWidth + b.w + 6" [attr.y]="b.y + barHeight / 2 + 4">{{ b.detail }}</text>
        </g>
      }
    </svg>
  `,
  styles: `
    .chart { width: 100%; height: auto; display: block; }
    .bar { fill: var(--mat-sys-primary); }
    .lbl, .val { fill: var(--mat-sys-on-surface-variant); font: 12px system-ui, sans-serif; }
  `,
})
export class UsageChart {
  readonly bars = input.required<Bar[]>();
  readonly title = input('');
  protected readonly width = 800;
  protected readonly labelWidth = 220;
  protected readonly barHeight = 18;
  protected readonly height = computed(() => Math.max(40, this.layout().length * (this.barHeight + 8) + 8));
  protected readonly layout = computed(() => {
    const bars = this.bars().slice(0, 30);
    const max = Math.max(1, ...bars.map((b) => b.value));
    const room = this.width - this.labelWidth - 140;
    return bars.map((b, i) => ({
      ...b,
      short: b.label.length > 32 ? b.label.slice(0, 31) + '…' : b.label,
      y: 8 + i * (this.barHeight + 8),
      w: Math.max(2, (b.value / max) * room),
    }));
  });
}
