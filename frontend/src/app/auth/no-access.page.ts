import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { Icon } from '../core/icon';
import { SessionService } from '../core/session';

/** Shown to signed-in users who are entitled to no model and no endpoint. */
@Component({
  selector: 'app-no-access',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon],
  template: `
    <div class="center-page">
      <section class="card no-access" aria-labelledby="no-access-title" data-testid="no-access-page">
        <app-icon name="lock" class="big-icon" />
        <h1 id="no-access-title" i18n="@@noAccess.title">You have no access yet</h1>
        <p i18n="@@noAccess.body">
          You are signed in as <strong>{{ session.displayName() }}</strong>, but your account is not in a group that
          may use AI models or endpoints.
        </p>
        <p class="muted" i18n="@@noAccess.next">
          Ask your manager or the Portico administrators to add you to a group such as MLUsers, then sign in again.
        </p>
        @if (session.groups().length > 0) {
          <p class="muted" i18n="@@noAccess.groups">Your groups: {{ session.groups().join(', ') }}</p>
        }
        <button mat-stroked-button type="button" (click)="session.signOut()" data-testid="no-access-sign-out" i18n="@@noAccess.signOut">
          Sign out
        </button>
      </section>
    </div>
  `,
  styles: `
    .no-access { max-width: 520px; text-align: center; }
    h1 { font: var(--mat-sys-headline-small); }
    .big-icon { color: var(--mat-sys-primary); transform: scale(2); display: inline-block; margin: 12px; }
  `,
})
export class NoAccessPage {
  protected readonly session = inject(SessionService);
}
