import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { Model } from '@gen/portico/inference/v1/inference_pb';
import { Icon } from '../../core/icon';
import { toBase64, type Attachment } from '../chat.models';
import { DOCUMENT_ACCEPT, checkDocuments, documentFormatOf } from './documents';

/**
 * The document attach button. Files also arrive by drag and drop or paste: the page passes
 * them to addFiles. Accepted files are emitted as attachments; refusals as plain-language
 * problems.
 */
@Component({
  selector: 'app-document-attachments',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatTooltipModule, Icon],
  template: `
    <input #docs type="file" class="visually-hidden" [accept]="accept" multiple (change)="onInput(docs)"
           data-testid="attach-document-input" tabindex="-1" aria-hidden="true" />
    <button mat-icon-button type="button" (click)="docs.click()" data-testid="attach-document-button"
            [attr.aria-label]="label" [matTooltip]="label">
      <app-icon name="attach" />
    </button>
  `,
})
export class DocumentAttachments {
  /** The selected model. */
  readonly model = input<Model | undefined>();
  /** How many documents the conversation already holds (Converse counts them all). */
  readonly already = input(0);
  /** How many bytes of attachments the conversation already holds (every turn resends them). */
  readonly alreadyBytes = input(0);
  /** Documents accepted. */
  readonly added = output<Attachment[]>();
  /** Why files were refused, in plain language (empty when none was). */
  readonly problems = output<string[]>();

  protected readonly accept = DOCUMENT_ACCEPT;
  protected readonly label = $localize`:@@chat.attachDocuments:Attach documents`;

  protected async onInput(el: HTMLInputElement): Promise<void> {
    const files = Array.from(el.files ?? []);
    el.value = '';
    await this.addFiles(files);
  }

  /** Checks and reads files; emits the accepted documents or the problems. */
  async addFiles(files: File[]): Promise<void> {
    if (files.length === 0) return;
    const problems = checkDocuments(files, this.already(), this.model(), this.alreadyBytes());
    this.problems.emit(problems);
    if (problems.length > 0) return;
    const out: Attachment[] = [];
    for (const f of files) {
      out.push({
        kind: 'document',
        name: f.name,
        size: f.size,
        documentFormat: documentFormatOf(f.name),
        base64: toBase64(new Uint8Array(await f.arrayBuffer())),
      });
    }
    this.added.emit(out);
  }
}
