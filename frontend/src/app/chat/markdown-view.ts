import { ChangeDetectionStrategy, Component, ElementRef, effect, inject, input } from '@angular/core';
import { renderMarkdown } from '../core/markdown';

/**
 * Shows Markdown as sanitised HTML. Copy buttons in code blocks work through one delegated
 * listener, so the rendered HTML needs no inline handlers (the CSP forbids them).
 */
@Component({
  selector: 'app-markdown',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'markdown', '(click)': 'onClick($event)' },
  template: '',
})
export class MarkdownView {
  readonly text = input.required<string>();
  private readonly el = inject<ElementRef<HTMLElement>>(ElementRef);

  constructor() {
    effect(() => {
      // renderMarkdown sanitises with DOMPurify; Angular's own sanitiser would drop the copy buttons.
      this.el.nativeElement.innerHTML = renderMarkdown(this.text());
    });
  }

  protected async onClick(ev: Event): Promise<void> {
    const target = ev.target as HTMLElement | null;
    const button = target?.closest<HTMLButtonElement>('[data-copy-code]');
    if (!button) return;
    const code = button.closest('.code-block')?.querySelector('code')?.textContent ?? '';
    try {
      await navigator.clipboard.writeText(code);
      button.textContent = $localize`:@@markdown.copied:Copied`;
    } catch {
      button.textContent = $localize`:@@markdown.copyFailed:Copy failed`;
    }
    setTimeout(() => (button.textContent = $localize`:@@markdown.copyCode:Copy code`), 1500);
  }
}
