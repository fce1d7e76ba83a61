import { DocumentFormat, type Model } from '@gen/portico/inference/v1/inference_pb';

/** Converse's document limits, used when the catalog gives none (Bedrock API reference). */
export const DEFAULT_MAX_DOCUMENTS = 5;
export const DEFAULT_MAX_DOCUMENT_BYTES = 4_500_000;

const BY_EXTENSION: Record<string, DocumentFormat> = {
  pdf: DocumentFormat.PDF,
  csv: DocumentFormat.CSV,
  doc: DocumentFormat.DOC,
  docx: DocumentFormat.DOCX,
  xls: DocumentFormat.XLS,
  xlsx: DocumentFormat.XLSX,
  html: DocumentFormat.HTML,
  htm: DocumentFormat.HTML,
  txt: DocumentFormat.TXT,
  md: DocumentFormat.MD,
  markdown: DocumentFormat.MD,
};

/**
 * The most bytes of attachments a conversation may carry from the browser: every turn sends
 * the whole conversation, base64 in JSON (4/3 larger), and the BFF reads at most 8 MiB.
 */
export const MAX_TOTAL_ATTACHMENT_BYTES = 5_500_000;

/** The file extensions the attach button offers for documents. */
export const DOCUMENT_ACCEPT = '.pdf,.csv,.doc,.docx,.xls,.xlsx,.html,.htm,.txt,.md,.markdown';

/** The Converse document format of a file, by its extension, or undefined. */
export function documentFormatOf(name: string): DocumentFormat | undefined {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return undefined;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
}

/** A short label of a document format, such as "PDF". */
export function documentLabel(f: DocumentFormat | undefined): string {
  return f === undefined ? '' : (DocumentFormat[f] ?? '');
}

/**
 * Checks files against the model's document limits; returns the problems in plain language.
 * The service checks the bytes too (a renamed file is refused there).
 */
export function checkDocuments(
  files: readonly { name: string; size: number }[],
  already: number,
  model: Model | undefined,
  alreadyBytes = 0,
): string[] {
  const caps = model?.capabilities;
  if (!caps?.documents) {
    return [$localize`:@@chat.docs.unsupported:This model does not accept documents; pick a model that lists Documents.`];
  }
  const problems: string[] = [];
  const max = caps.maxDocuments > 0 ? caps.maxDocuments : DEFAULT_MAX_DOCUMENTS;
  if (already + files.length > max) {
    problems.push($localize`:@@chat.docs.tooMany:This model takes at most ${max}:max: documents per conversation.`);
  }
  const maxBytes = Number(caps.maxDocumentBytes) > 0 ? Number(caps.maxDocumentBytes) : DEFAULT_MAX_DOCUMENT_BYTES;
  const total = files.reduce((n, f) => n + f.size, alreadyBytes);
  if (total > MAX_TOTAL_ATTACHMENT_BYTES) {
    problems.push(
      $localize`:@@chat.docs.total:Together with the files already in this conversation these come to more than ${(MAX_TOTAL_ATTACHMENT_BYTES / 1_000_000).toFixed(1)}:max: MB, the most one conversation can send; start a new chat for more.`,
    );
  }
  for (const f of files) {
    if (documentFormatOf(f.name) === undefined) {
      problems.push(
        $localize`:@@chat.docs.format:${f.name}:name: is not a document this model reads (PDF, CSV, Word, Excel, HTML, text or Markdown).`,
      );
    } else if (f.size === 0) {
      problems.push($localize`:@@chat.docs.empty:${f.name}:name: is empty.`);
    } else if (f.size > maxBytes) {
      problems.push(
        $localize`:@@chat.docs.size:${f.name}:name: is larger than ${(maxBytes / 1_000_000).toFixed(1)}:max: MB, the most this model accepts.`,
      );
    }
  }
  return problems;
}
