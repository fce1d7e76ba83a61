import { TestBed } from '@angular/core/testing';
import { createRouterTransport } from '@connectrpc/connect';
import { InferenceService, Provider, type InvokeEndpointRequest } from '@gen/portico/inference/v1/inference_pb';
import { TRANSPORT } from '../core/transport';
import { EndpointsPage, assembleStreamText, formatBody, validatePayload } from './endpoints.page';

describe('endpoint payloads', () => {
  it('validates JSON only for JSON content types', () => {
    expect(validatePayload('{"inputs": "x"}', 'application/json')).toBeNull();
    expect(validatePayload('{ nope', 'application/json')).toContain('not valid JSON');
    expect(validatePayload('{ nope', 'text/plain')).toBeNull();
    expect(validatePayload('   ', 'text/plain')).toContain('empty');
  });

  it('assembles streamed JSON lines into text', () => {
    expect(assembleStreamText('{"token":{"text":"Hello"}}\n{"token":{"text":" sea"}}\n{"details":{"finish_reason":"eos_token"}}\n')).toBe('Hello sea');
    expect(assembleStreamText('{"generated_text":"all at once"}')).toBe('all at once');
    expect(assembleStreamText('{"other":1}')).toBeNull();
    expect(assembleStreamText('plain words')).toBeNull();
  });

  it('pretty-prints JSON responses and leaves text alone', () => {
    expect(formatBody('{"a":1}', 'application/json')).toBe('{\n  "a": 1\n}');
    expect(formatBody('plain words', 'text/plain')).toBe('plain words');
  });
});

describe('EndpointsPage', () => {
  it('sends the payload bytes unchanged and shows the formatted response', async () => {
    const seen: InvokeEndpointRequest[] = [];
    const transport = createRouterTransport(({ service }) => {
      service(InferenceService, {
        listModels: () => ({
          models: [{ id: 'portico-demo-llm', provider: Provider.SAGEMAKER, contentTypes: ['application/json', 'text/plain'] }],
        }),
        invokeEndpoint: (req) => {
          seen.push(req);
          return { requestId: 'r1', contentType: 'application/json', body: new TextEncoder().encode('{"generated_text":"hi"}') };
        },
      });
    });
    TestBed.configureTestingModule({ imports: [EndpointsPage], providers: [{ provide: TRANSPORT, useValue: transport }] });
    const fixture = TestBed.createComponent(EndpointsPage);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await fixture.whenStable();
    }
    const el = fixture.nativeElement as HTMLElement;
    el.querySelector<HTMLButtonElement>('[data-testid="endpoint-send"]')!.click();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await fixture.whenStable();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.endpointName).toBe('portico-demo-llm');
    expect(JSON.parse(new TextDecoder().decode(seen[0]!.body))).toMatchObject({ parameters: { max_new_tokens: 64 } });
    expect(el.querySelector('[data-testid="endpoint-response"]')!.textContent).toContain('"generated_text": "hi"');
    expect(el.querySelector('[data-testid="endpoint-status-chip"]')!.textContent).toContain('OK');
  });
});
