import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { Icon } from '../core/icon';
import type { FriendlyError } from '../core/errors';
import { redirectToLogin } from '../core/transport';

/** An error in plain language with the button for its next step. */
@Component({
  selector: 'app-error-banner',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon],
  template: `
    @if (error(); as e) {
      <div class="banner" role="alert" data-testid="error-banner" [attr.data-kind]="e.kind">
        <app-icon name="warning" />
        <div class="text">
          <strong data-testid="error-title">{{ e.title }}</strong>
          <span data-testid="error-message">{{ e.message }}</span>
        </div>
        @switch (e.next) {
          @case ('retry') {
            <button mat-stroked-button type="button" (click)="retry.emit()" data-testid="error-retry" i18n="@@error.retry">Try again</button>
          }
          @case ('sign-in') {
            <button mat-stroked-button type="button" (click)="signIn()" data-testid="error-sign-in" i18n="@@error.signIn">Sign in</button>
          }
        }
        <button mat-icon-button type="button" (click)="dismiss.emit()" aria-label="Dismiss" i18n-aria-label="@@error.dismiss">
          <app-icon name="close" />
        </button>
      </div>
    }
  `,
  styles: `
    .banner {
      display: flex; align-items: center; gap: 12px; padding: 8px 8px 8px 16px; border-radius: 12px;
      background: var(--mat-sys-error-container); color: var(--mat-sys-on-error-container);
    }
    .text { flex: 1; display: flex; flex-direction: column; }
  `,
})
export class ErrorBanner {
  readonly error = input<FriendlyError | null>(null);
  readonly retry = output<void>();
  readonly dismiss = output<void>();

  protected signIn(): void {
    redirectToLogin(window.location, { force: true });
  }
}
