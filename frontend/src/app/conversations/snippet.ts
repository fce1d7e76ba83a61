import type { Snippet } from '@gen/portico/conversation/v1/conversation_pb';

/** A piece of a snippet's text: marked when it is a matched range. */
export interface SnippetPart {
  text: string;
  mark: boolean;
}

/**
 * Cuts a search snippet into plain and marked pieces to render as text (never as markup).
 * Highlights are UTF-16 ranges, so they slice a JavaScript string directly. The server's
 * ranges are untrusted: a range out of bounds is clipped, an empty, reversed or overlapping
 * one is skipped, and ranges out of order are sorted first; the pieces always join to the
 * whole text.
 */
export function snippetParts(s: Pick<Snippet, 'text' | 'highlights'> | undefined): SnippetPart[] {
  const text = s?.text ?? '';
  if (!text) return [];
  const ranges = (s?.highlights ?? [])
    .map((h) => [Math.max(0, Math.trunc(h.start)), Math.min(text.length, Math.trunc(h.end))] as const)
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && a < b)
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: SnippetPart[] = [];
  let at = 0;
  for (const [a, b] of ranges) {
    if (a < at) continue; // overlaps the previous range
    if (a > at) out.push({ text: text.slice(at, a), mark: false });
    out.push({ text: text.slice(a, b), mark: true });
    at = b;
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false });
  return out;
}

/**
 * The pieces of a snippet as people read them: Markdown emphasis and code marks (`*`, `` ` ``,
 * heading `#`s) dropped from the unmarked text and white space collapsed. Matched pieces are
 * left exactly as the server marked them.
 */
export function readableParts(parts: SnippetPart[]): SnippetPart[] {
  const out: SnippetPart[] = [];
  for (const p of parts) {
    const text = p.mark ? p.text : p.text.replace(/[*`]+/g, '').replace(/(^|\s)#{1,6}(?=\s)/g, '$1').replace(/\s+/g, ' ');
    if (text) out.push({ text, mark: p.mark });
  }
  return out;
}
