import { ChangeDetectionStrategy, Component, computed, input, output, signal } from '@angular/core';
import { Icon } from '../core/icon';

let nextId = 0;

/**
 * A list of names (models, endpoints, groups) as chips: read-only, or editable with a remove
 * button per chip and a text field (with suggestions) that adds on Enter or on its button.
 */
@Component({
  selector: 'app-list-editor',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [Icon],
  template: `
    <div class="list" role="group" [attr.aria-labelledby]="id + '-label'" [attr.data-testid]="testid()" [attr.aria-describedby]="problems().length ? id + '-problems' : null">
      <span class="label" [id]="id + '-label'">{{ label() }}@if (hint()) { <span class="hint">· {{ hint() }}</span> }</span>
      <div class="chips">
        @for (item of items(); track item) {
          <span class="chip" [attr.data-testid]="testid() + '-item'" [attr.data-value]="item">
            {{ item }}
            @if (editing()) {
              <button type="button" class="remove" (click)="remove(item)" [attr.aria-label]="removeLabel(item)" [attr.data-testid]="testid() + '-remove'">
                <app-icon name="close" />
              </button>
            }
          </span>
        } @empty {
          <span class="muted empty">{{ emptyText() }}</span>
        }
      </div>
      @if (editing()) {
        <div class="add">
          <input type="text" [id]="id + '-input'" [attr.list]="id + '-options'" [value]="draft()" (input)="draft.set($any($event.target).value)"
                 (keydown.enter)="$event.preventDefault(); add()" [attr.aria-label]="addLabel()" [attr.placeholder]="placeholder()"
                 [attr.data-testid]="testid() + '-input'" autocomplete="off" [attr.aria-invalid]="problems().length > 0" />
          <datalist [id]="id + '-options'">
            @for (o of suggestions(); track o) { <option [value]="o"></option> }
          </datalist>
          <button type="button" class="add-button" (click)="add()" [disabled]="!draft().trim()" [attr.data-testid]="testid() + '-add'" i18n="@@list.add">Add</button>
        </div>
      }
      @if (problems().length) {
        <ul class="problems" [id]="id + '-problems'" [attr.data-testid]="testid() + '-problems'">
          @for (p of problems(); track $index) { <li>{{ p }}</li> }
        </ul>
      }
    </div>
  `,
  styles: `
    .list { display: flex; flex-direction: column; gap: 6px; }
    .label { font: var(--mat-sys-label-large); color: var(--mat-sys-on-surface-variant); }
    .hint { font: var(--mat-sys-body-small); margin-left: 4px; }
    .chips { display: flex; flex-wrap: wrap; gap: 6px; }
    .chip { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
    .remove {
      display: inline-grid; place-items: center; border: 0; background: transparent; color: inherit; cursor: pointer;
      padding: 0; margin-left: 2px; border-radius: 50%; width: 18px; height: 18px;
    }
    .remove:hover { background: var(--mat-sys-surface-container-highest); }
    .remove ::ng-deep svg { width: 14px; height: 14px; }
    .add { display: flex; gap: 6px; }
    .add input {
      flex: 1; min-width: 0; font: var(--mat-sys-body-medium); padding: 6px 10px; border-radius: 8px; color: var(--mat-sys-on-surface);
      background: var(--mat-sys-surface-container-highest); border: 1px solid var(--mat-sys-outline-variant);
    }
    .add input[aria-invalid='true'] { border-color: var(--mat-sys-error); }
    .add-button {
      font: var(--mat-sys-label-large); border-radius: 8px; padding: 6px 12px; cursor: pointer;
      border: 1px solid var(--mat-sys-outline); background: transparent; color: var(--mat-sys-primary);
    }
    .add-button:disabled { opacity: 0.5; cursor: default; }
    .problems { margin: 0; padding-left: 18px; color: var(--mat-sys-error); font: var(--mat-sys-body-small); }
    .empty { font: var(--mat-sys-body-medium); }
  `,
})
export class ListEditor {
  protected readonly id = `list-${nextId++}`;
  readonly label = input.required<string>();
  readonly items = input<readonly string[]>([]);
  readonly options = input<readonly string[]>([]);
  readonly editing = input(false);
  readonly problems = input<readonly string[]>([]);
  readonly testid = input('list');
  /** What the list means, after its label ("may edit the policy"). */
  readonly hint = input('');
  readonly placeholder = input($localize`:@@list.placeholder:Type a name, then Enter`);
  readonly emptyText = input($localize`:@@list.none:None`);
  /** The whole new list, after an add or a remove. */
  readonly changed = output<string[]>();

  protected readonly draft = signal('');
  protected readonly suggestions = computed(() => {
    const have = new Set(this.items());
    return [...new Set(this.options())].filter((o) => !have.has(o)).sort();
  });

  protected add(): void {
    const v = this.draft().trim();
    if (!v) return;
    if (!this.items().includes(v)) this.changed.emit([...this.items(), v]);
    this.draft.set('');
  }

  protected remove(item: string): void {
    this.changed.emit(this.items().filter((x) => x !== item));
  }

  protected addLabel(): string {
    return $localize`:@@list.addLabel:Add to ${this.label()}:label:`;
  }

  protected removeLabel(item: string): string {
    return $localize`:@@list.removeLabel:Remove ${item}:item: from ${this.label()}:label:`;
  }
}
