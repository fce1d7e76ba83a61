import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { Icon } from '../core/icon';
import { loginUrl } from '../core/transport';

/** The page signed-out users land on. */
@Component({
  selector: 'app-sign-in',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon],
  template: `
    <main class="center-page" id="main">
      <section class="card sign-in" aria-labelledby="sign-in-title" data-testid="sign-in-page">
        <div class="brand-mark large" aria-hidden="true">P</div>
        <h1 id="sign-in-title" i18n="@@signIn.title">Welcome to Portico</h1>
        <p class="muted" i18n="@@signIn.lead">
          Use the company's approved AI models and SageMaker endpoints, within your team's quotas.
        </p>
        <a mat-flat-button class="wide" [href]="href()" data-testid="sign-in-button">
          <app-icon name="lock" />
          <span i18n="@@signIn.button">Sign in with your company account</span>
        </a>
        <p class="fine muted" i18n="@@signIn.fine">
          Your sign-in is handled by your organisation's identity provider. Portico never sees your password.
        </p>
      </section>
    </main>
  `,
  styles: `
    .sign-in { max-width: 440px; text-align: center; display: flex; flex-direction: column; align-items: center; gap: 12px; }
    h1 { font: var(--mat-sys-headline-medium); margin: 8px 0 0; }
    .wide { width: 100%; margin-top: 8px; }
    .wide app-icon { margin-right: 8px; }
    .fine { font: var(--mat-sys-body-small); }
  `,
})
export class SignInPage {
  /** Where to go after signing in (a local path). */
  readonly returnTo = input<string>('/');
  protected readonly href = computed(() => loginUrl(this.returnTo() || '/'));
}
