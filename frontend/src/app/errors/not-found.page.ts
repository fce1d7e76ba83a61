import { ChangeDetectionStrategy, Component } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { RouterLink } from '@angular/router';

/** Shown for unknown paths. */
@Component({
  selector: 'app-not-found',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, RouterLink],
  template: `
    <div class="center-page">
      <section class="card" data-testid="not-found-page">
        <h1 i18n="@@notFound.title">Page not found</h1>
        <p i18n="@@notFound.body">There is nothing at this address.</p>
        <a mat-flat-button routerLink="/" i18n="@@notFound.home">Go to the start page</a>
      </section>
    </div>
  `,
})
export class NotFoundPage {}
