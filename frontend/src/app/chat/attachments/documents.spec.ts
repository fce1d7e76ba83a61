import { create } from '@bufbuild/protobuf';
import { DocumentFormat, ModelSchema } from '@gen/portico/inference/v1/inference_pb';
import { checkDocuments, documentFormatOf } from './documents';

describe('documents', () => {
  const model = create(ModelSchema, {
    id: 'amazon.nova-lite-v1:0',
    capabilities: { documents: true, maxDocuments: 5, maxDocumentBytes: 4_500_000n },
  });

  it('knows the formats by extension', () => {
    expect(documentFormatOf('Report.PDF')).toBe(DocumentFormat.PDF);
    expect(documentFormatOf('data.csv')).toBe(DocumentFormat.CSV);
    expect(documentFormatOf('notes.markdown')).toBe(DocumentFormat.MD);
    expect(documentFormatOf('archive.zip')).toBeUndefined();
    expect(documentFormatOf('noextension')).toBeUndefined();
  });

  it('refuses with plain-language reasons', () => {
    const cases: { files: { name: string; size: number }[]; already: number; bytes?: number; want: string }[] = [
      { files: [{ name: 'a.zip', size: 10 }], already: 0, want: 'is not a document' },
      { files: [{ name: 'big.pdf', size: 4_500_001 }], already: 0, want: 'larger than 4.5 MB' },
      { files: [{ name: 'e.txt', size: 0 }], already: 0, want: 'is empty' },
      { files: [{ name: 'a.pdf', size: 1 }, { name: 'b.pdf', size: 1 }], already: 4, want: 'at most 5 documents' },
      { files: [{ name: 'a.pdf', size: 2_000_000 }], already: 1, bytes: 4_000_000, want: 'start a new chat' },
    ];
    for (const c of cases) {
      const problems = checkDocuments(c.files, c.already, model, c.bytes ?? 0);
      expect(problems.join(' ')).toContain(c.want);
    }
    expect(checkDocuments([{ name: 'a.pdf', size: 10 }], 0, model)).toEqual([]);
  });

  it('refuses every document for a model without documents', () => {
    const plain = create(ModelSchema, { id: 'x', capabilities: { streaming: true } });
    expect(checkDocuments([{ name: 'a.pdf', size: 10 }], 0, plain)[0]).toContain('does not accept documents');
    expect(checkDocuments([{ name: 'a.pdf', size: 10 }], 0, undefined)[0]).toContain('does not accept documents');
  });
});
