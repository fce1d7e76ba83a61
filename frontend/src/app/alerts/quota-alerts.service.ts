import { DestroyRef, Injectable, Injector, computed, effect, inject, signal, untracked } from '@angular/core';
import { Api } from '../core/api';
import { MeteredCalls } from '../core/metered';
import { SessionService } from '../core/session';
import { loadDismissed, meterOfAlert, quotaAlerts, saveDismissed, type Meter, type QuotaAlert } from './quota-alerts';

/** How often the meters are read again while the page is open and visible. */
const POLL_MS = 5 * 60_000;

/**
 * Holds the signed-in person's quota alerts (GetMe's alerts: the quotas and budgets past 80 %
 * or 100 % in their current window, as the server counts them): reads them when the app starts, after
 * every call that may have consumed quota, when the tab becomes visible again and every few
 * minutes, and remembers dismissals per threshold and window in this browser.
 */
@Injectable({ providedIn: 'root' })
export class QuotaAlertsService {
  private readonly api = inject(Api);
  private readonly session = inject(SessionService);
  private readonly metered = inject(MeteredCalls);
  private readonly injector = inject(Injector);
  private readonly storage: Storage | null = typeof localStorage === 'undefined' ? null : localStorage;
  private inFlight = false;
  private again = false;

  /** The meters as last read. */
  readonly meters = signal<Meter[]>([]);
  private readonly dismissed = signal<ReadonlySet<string>>(new Set());
  /** The alerts to show now, most severe first. */
  readonly alerts = computed<QuotaAlert[]>(() => quotaAlerts(this.meters(), this.dismissed()));

  private user(): string {
    return this.session.me()?.principal?.subject || this.session.user()?.subject || '';
  }

  /** Starts watching: call once from the frame of the signed-in pages. */
  start(destroy: DestroyRef): void {
    this.dismissed.set(this.storage ? loadDismissed(this.storage, this.user()) : new Set());
    // Runs now and after every metered call that ends.
    const ref = effect(
      () => {
        this.metered.ended();
        untracked(() => void this.refresh());
      },
      { injector: this.injector },
    );
    const onVisible = () => {
      if (document.visibilityState === 'visible') void this.refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.refresh();
    }, POLL_MS);
    destroy.onDestroy(() => {
      ref.destroy();
      document.removeEventListener('visibilitychange', onVisible);
      clearInterval(timer);
    });
  }

  /** Reads the meters again (one read at a time; a request during a read runs once after it). */
  async refresh(): Promise<void> {
    if (!this.session.hasAccess()) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    try {
      do {
        this.again = false;
        try {
          const me = await this.api.identity.getMe({});
          this.meters.set(me.alerts.map(meterOfAlert));
        } catch {
          // Alerts are a courtesy: a failed read keeps the last meters; pages show their own errors.
        }
      } while (this.again);
    } finally {
      this.inFlight = false;
    }
  }

  /** Hides an alert until its window ends (a higher threshold still shows). */
  dismiss(a: QuotaAlert): void {
    if (this.storage) saveDismissed(this.storage, this.user(), a);
    this.dismissed.update((d) => new Set([...d, a.id]));
  }
}
