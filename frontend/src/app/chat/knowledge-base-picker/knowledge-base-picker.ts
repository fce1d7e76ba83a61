import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatSelectModule } from '@angular/material/select';
import type { KnowledgeBase } from '@gen/portico/inference/v1/inference_pb';

/**
 * Picks the knowledge base a question is grounded in. It lists only what ListModels returned:
 * the knowledge bases the caller is entitled to. Hidden when there are none.
 */
@Component({
  selector: 'app-knowledge-base-picker',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatFormFieldModule, MatSelectModule],
  template: `
    @if (bases().length > 0) {
      <mat-form-field class="kb-field" appearance="outline" subscriptSizing="dynamic">
        <mat-label i18n="@@chat.kb">Knowledge base</mat-label>
        <mat-select [value]="selected()" (valueChange)="picked.emit($event)" [disabled]="disabled()" data-testid="kb-select">
          <mat-option value="" data-testid="kb-option" i18n="@@chat.kbNone">None</mat-option>
          @for (kb of bases(); track kb.id) {
            <mat-option [value]="kb.id" data-testid="kb-option" [attr.data-kb-id]="kb.id" [title]="kb.description">
              {{ kb.name }}
            </mat-option>
          }
        </mat-select>
      </mat-form-field>
    }
  `,
  styles: `.kb-field { min-width: 14rem; }`,
})
export class KnowledgeBasePicker {
  /** The entitled knowledge bases. */
  readonly bases = input<KnowledgeBase[]>([]);
  /** The selected id ("" for none). */
  readonly selected = input('');
  /** Disabled while an answer streams. */
  readonly disabled = input(false);
  /** The id picked ("" for none). */
  readonly picked = output<string>();
}
