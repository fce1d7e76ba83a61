import { ChangeDetectionStrategy, Component, DestroyRef, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { RouterLink } from '@angular/router';
import { Icon } from '../core/icon';
import { formatTime } from '../usage/usage-format';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { QuotaAlert } from './quota-alerts';
import { QuotaAlertsService } from './quota-alerts.service';

/** The title of an alert: the share used, or that the limit is reached. */
export function alertTitle(a: QuotaAlert): string {
  return a.threshold === 100
    ? $localize`:@@alert.reached:${a.meter.label}:what:: limit reached`
    : $localize`:@@alert.near:${a.meter.label}:what:: ${a.percent}:percent: % used`;
}

/** The details of an alert: what is left and when the window resets. */
export function alertDetail(a: QuotaAlert): string {
  const at = a.meter.resetsAt ? formatTime(timestampFromDate(a.meter.resetsAt)) : '';
  if (a.threshold === 100) {
    return at
      ? $localize`:@@alert.reachedDetail:${a.left}:left: left. It resets ${at}:time:.`
      : $localize`:@@alert.reachedDetailNoTime:${a.left}:left: left.`;
  }
  return at ? $localize`:@@alert.nearDetail:${a.left}:left: left until it resets ${at}:time:.` : $localize`:@@alert.nearDetailNoTime:${a.left}:left: left.`;
}

/** The signed-in person's quota alerts, above every page; each one dismissable. */
@Component({
  selector: 'app-quota-banner',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, RouterLink, Icon],
  template: `
    <div class="alerts" aria-live="polite" data-testid="quota-alerts">
      @for (a of alerts.alerts(); track a.id) {
        <div class="alert" role="status" data-testid="quota-alert" [attr.data-threshold]="a.threshold" [class.full]="a.threshold === 100">
          <app-icon name="warning" />
          <div class="text">
            <strong data-testid="quota-alert-title">{{ title(a) }}</strong>
            <span data-testid="quota-alert-detail">{{ detail(a) }}</span>
          </div>
          <a mat-button routerLink="/usage" data-testid="quota-alert-usage" i18n="@@alert.seeUsage">See usage</a>
          <button mat-icon-button type="button" (click)="alerts.dismiss(a)" data-testid="quota-alert-dismiss"
                  [attr.aria-label]="dismissLabel(a)">
            <app-icon name="close" />
          </button>
        </div>
      }
    </div>
  `,
  styles: `
    .alerts { display: flex; flex-direction: column; gap: 8px; }
    .alerts:not(:empty) { padding: 12px 24px 0; max-width: 1200px; margin: 0 auto; width: 100%; }
    .alert {
      display: flex; align-items: center; gap: 12px; padding: 6px 8px 6px 16px; border-radius: 12px;
      background: var(--mat-sys-tertiary-container); color: var(--mat-sys-on-tertiary-container);
    }
    .alert.full { background: var(--mat-sys-error-container); color: var(--mat-sys-on-error-container); }
    .alert a { color: inherit; }
    .text { flex: 1; display: flex; flex-direction: column; }
  `,
})
export class QuotaBanner {
  protected readonly alerts = inject(QuotaAlertsService);
  protected readonly title = alertTitle;
  protected readonly detail = alertDetail;

  constructor() {
    this.alerts.start(inject(DestroyRef));
  }

  protected dismissLabel(a: QuotaAlert): string {
    return $localize`:@@alert.dismiss:Dismiss the ${a.threshold}:threshold: % alert`;
  }
}
