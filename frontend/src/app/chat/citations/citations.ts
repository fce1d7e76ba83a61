import { ChangeDetectionStrategy, Component, input, signal } from '@angular/core';
import type { SourceCitation } from '../chat.models';

/**
 * The numbered sources of an answer: a marker per source ([1], [2]...) that opens the sources
 * panel at it, and the panel with each source's title, excerpt and link.
 */
@Component({
  selector: 'app-citations',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (citations().length > 0) {
      <div class="markers" data-testid="citation-markers">
        <span class="muted small" i18n="@@chat.sources">Sources:</span>
        @for (c of citations(); track c.number) {
          <button type="button" class="marker" (click)="toggle(c.number)" [attr.aria-expanded]="open() === c.number"
                  data-testid="citation-marker">[{{ c.number }}]</button>
        }
      </div>
      @if (open() !== null) {
        <ol class="sources" data-testid="sources-panel">
          @for (c of citations(); track c.number) {
            <li [value]="c.number" [class.focus]="open() === c.number" data-testid="source">
              <strong>{{ c.title }}</strong>
              @if (c.location) {
                @if (isLink(c.location)) {
                  <a [href]="c.location" target="_blank" rel="noopener noreferrer" data-testid="source-link">{{ c.location }}</a>
                } @else {
                  <span class="muted small">{{ c.location }}</span>
                }
              }
              <blockquote>{{ c.excerpt }}</blockquote>
            </li>
          }
        </ol>
      }
    }
  `,
  styles: `
    .markers { display: flex; gap: 0.25rem; align-items: center; flex-wrap: wrap; margin-top: 0.25rem; }
    .marker { border: none; background: none; color: var(--mat-sys-primary, #1a73e8); cursor: pointer; padding: 0 0.15rem; }
    .sources { margin: 0.5rem 0; padding-left: 1.5rem; }
    .sources li { margin-bottom: 0.5rem; }
    .sources li.focus { outline: 2px solid var(--mat-sys-primary, #1a73e8); outline-offset: 2px; }
    .sources a { display: block; word-break: break-all; }
    blockquote { margin: 0.25rem 0; opacity: 0.85; }
  `,
})
export class Citations {
  /** The sources, by number. */
  readonly citations = input<SourceCitation[]>([]);
  protected readonly open = signal<number | null>(null);

  protected toggle(n: number): void {
    this.open.update((o) => (o === n ? null : n));
  }

  /** Only http(s) locations become links (a source's location is untrusted text). */
  protected isLink(loc: string): boolean {
    return /^https?:\/\//i.test(loc);
  }
}
