import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { Icon } from '../core/icon';

/** Shown when the BFF cannot be reached at start-up. */
@Component({
  selector: 'app-unreachable',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon],
  template: `
    <main class="center-page" id="main">
      <section class="card" role="alert" data-testid="unreachable-page">
        <app-icon name="warning" />
        <h1 i18n="@@unreachable.title">Server unreachable</h1>
        <p i18n="@@unreachable.body">Portico could not be reached. Check your connection, then try again.</p>
        <a mat-flat-button [href]="returnTo() || '/'" i18n="@@unreachable.retry">Try again</a>
      </section>
    </main>
  `,
})
export class UnreachablePage {
  readonly returnTo = input<string>('/');
}
