import { TestBed } from '@angular/core/testing';
import { createRouterTransport } from '@connectrpc/connect';
import {
  DocumentFormat,
  InferenceService,
  Provider,
  Role,
  StopReason,
  type ConverseStreamRequest,
} from '@gen/portico/inference/v1/inference_pb';
import { TRANSPORT } from '../../core/transport';
import { ChatStore } from '../chat.store';

describe('ChatStore with documents and knowledge bases', () => {
  beforeEach(() => sessionStorage.clear());

  it('sends documents and the knowledge base, and keeps the citations of the answer', async () => {
    const requests: ConverseStreamRequest[] = [];
    const transport = createRouterTransport(({ service }) => {
      service(InferenceService, {
        listModels: () => ({
          models: [
            {
              id: 'amazon.nova-lite-v1:0',
              provider: Provider.BEDROCK,
              capabilities: { streaming: true, documents: true, maxDocuments: 5, maxDocumentBytes: 4_500_000n },
            },
          ],
          knowledgeBases: [{ id: 'PORTICOHB1', name: 'Portico handbook', modelId: 'amazon.nova-lite-v1:0' }],
        }),
        async *converseStream(req: ConverseStreamRequest) {
          requests.push(req);
          yield { event: { case: 'start', value: { requestId: 'r', role: Role.ASSISTANT } } };
          yield { event: { case: 'delta', value: { text: 'See [1].' } } };
          yield { event: { case: 'stop', value: { stopReason: StopReason.END_TURN } } };
          yield {
            event: {
              case: 'citations',
              value: { citations: [{ number: 1, title: 'documents.md', location: 'http://x/doc', excerpt: 'attach', score: 2 }] },
            },
          };
          yield { event: { case: 'metadata', value: { metrics: { inputTokens: 1n, outputTokens: 1n } } } };
        },
      });
    });
    TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
    const store = TestBed.inject(ChatStore);
    await store.loadModels();
    expect(store.knowledgeBases().map((k) => k.id)).toEqual(['PORTICOHB1']);
    store.knowledgeBaseId.set('PORTICOHB1');
    await store.send('What is in it?', [
      { kind: 'document', name: 'report.pdf', size: 5, documentFormat: DocumentFormat.PDF, base64: btoa('%PDF-') },
    ]);
    const req = requests[0]!;
    expect(req.knowledgeBaseId).toBe('PORTICOHB1');
    const blocks = req.messages[0]!.content.map((b) => b.block.case);
    expect(blocks).toEqual(['text', 'document']);
    const d = req.messages[0]!.content[1]!.block;
    expect(d.case === 'document' && d.value.name === 'report.pdf' && d.value.format === DocumentFormat.PDF).toBe(true);
    expect(store.messages()[1]!.citations).toEqual([
      { number: 1, title: 'documents.md', location: 'http://x/doc', excerpt: 'attach', score: 2 },
    ]);
  });
});
