import { ChangeDetectionStrategy, Component, effect, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { Icon } from '../core/icon';
import { ConversationsStore } from './conversations.store';

/**
 * The offer to bring back a conversation just deleted, shown for the undo period on every
 * page (it lives in the shell, so moving around the app keeps it). It is a polite live
 * region, so screen readers announce the deletion and the way back.
 */
@Component({
  selector: 'app-undo-toast',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon],
  template: `
    <div class="region" role="status" aria-live="polite">
      @if (store.undoable(); as c) {
        <div class="toast" data-testid="undo-toast">
          <span class="text" i18n="@@conversations.deleted">Deleted “{{ c.title || untitled }}”</span>
          <button mat-button type="button" class="undo" (click)="store.undo(c.id)" data-testid="undo-delete" i18n="@@conversations.undo">Undo</button>
          <button mat-icon-button type="button" (click)="store.dismissUndo()" aria-label="Dismiss" i18n-aria-label="@@error.dismiss">
            <app-icon name="close" />
          </button>
        </div>
      }
    </div>
  `,
  styles: `
    .region { position: fixed; left: 50%; transform: translateX(-50%); bottom: 112px; z-index: 1000; }
    .toast {
      display: flex; align-items: center; gap: 4px; padding: 4px 4px 4px 16px; border-radius: 12px; max-width: min(480px, calc(100vw - 32px));
      background: var(--mat-sys-inverse-surface); color: var(--mat-sys-inverse-on-surface); box-shadow: var(--mat-sys-level3);
    }
    .text { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font: var(--mat-sys-body-medium); }
    .undo { color: var(--mat-sys-inverse-primary); }
    button[mat-icon-button] { color: inherit; }
  `,
})
export class UndoToast {
  protected readonly store = inject(ConversationsStore);
  protected readonly untitled = $localize`:@@conversations.untitled:Untitled conversation`;

  constructor() {
    // When the offer goes away with the keyboard on it, the keyboard goes to the conversation
    // search (or the message box) rather than to the start of the page.
    let shown = false;
    effect(() => {
      const now = !!this.store.undoable();
      const closed = shown && !now;
      shown = now;
      if (!closed) return;
      setTimeout(() => {
        const active = document.activeElement;
        if (active && active !== document.body) return;
        document.querySelector<HTMLElement>('#conversation-search, [data-testid="composer-input"]')?.focus();
      });
    });
  }
}
