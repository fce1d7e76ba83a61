import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { Code, ConnectError } from '@connectrpc/connect';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';
import { Provider, type Model } from '@gen/portico/inference/v1/inference_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { Icon } from '../core/icon';
import { formatCount, formatMoney } from '../core/money';
import { SessionService } from '../core/session';
import { ErrorBanner } from '../errors/error-banner';
import { durationMs, toAnswerMetrics, type AnswerMetrics } from '../chat/chat.models';

const SAMPLE_JSON = `{
  "inputs": "Write a haiku about the sea.",
  "parameters": { "max_new_tokens": 64 }
}`;

/** The outcome of one endpoint call. */
interface EndpointResult {
  status: 'ok' | 'error' | 'stopped';
  body: string;
  contentType: string;
  latencyMs: number;
  requestId: string;
  variant: string;
  metrics?: AnswerMetrics;
}

/** Validates a payload for a content type; returns a problem in plain language or null. */
export function validatePayload(text: string, contentType: string): string | null {
  if (text.trim() === '') return $localize`:@@endpoints.empty:The payload is empty.`;
  if (contentType.includes('json')) {
    try {
      JSON.parse(text);
    } catch (e) {
      return $localize`:@@endpoints.badJson:The payload is not valid JSON: ${(e as Error).message}:detail:`;
    }
  }
  return null;
}

/** Pretty-prints a response body when it is JSON. */
export function formatBody(body: string, contentType: string): string {
  if (contentType.includes('json') || /^\s*[{[]/.test(body)) {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  return body;
}

/**
 * The text of a streamed response made of JSON lines in the common LLM-container shapes
 * (`{"token": {"text"}}`, `{"generated_text"}`, `{"text"}`), or null when it is not one.
 */
export function assembleStreamText(body: string): string | null {
  const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  let out = '';
  let pieces = 0;
  for (const raw of lines) {
    const line = raw.replace(/^data:\s*/, '');
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return null;
    }
    const o = v as { token?: { text?: unknown }; generated_text?: unknown; text?: unknown };
    const piece = typeof o.token?.text === 'string' ? o.token.text : typeof o.generated_text === 'string' ? o.generated_text : typeof o.text === 'string' ? o.text : null;
    if (piece === null) continue; // e.g. a closing {"details": …} line
    pieces++;
    out += piece;
  }
  return pieces > 0 ? out : null;
}

/** Sends payloads to an entitled SageMaker endpoint and shows the response. */
@Component({
  selector: 'app-endpoints-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatSlideToggleModule, Icon, ErrorBanner],
  templateUrl: './endpoints.page.html',
  styleUrl: './endpoints.page.scss',
})
export class EndpointsPage {
  private readonly api = inject(Api);
  protected readonly session = inject(SessionService);
  private abort: AbortController | null = null;

  protected readonly endpoints = signal<Model[]>([]);
  protected readonly name = signal('');
  protected readonly contentType = signal('application/json');
  protected readonly payload = signal(SAMPLE_JSON);
  protected readonly stream = signal(false);
  protected readonly busy = signal(false);
  protected readonly result = signal<EndpointResult | null>(null);
  protected readonly error = signal<FriendlyError | null>(null);

  protected readonly endpoint = computed(() => this.endpoints().find((e) => e.id === this.name()));
  protected readonly canStream = computed(() => !!this.endpoint()?.capabilities?.streaming);
  protected readonly contentTypes = computed(() => {
    const types = this.endpoint()?.contentTypes ?? [];
    return types.length > 0 ? types : ['application/json', 'text/plain'];
  });
  protected readonly assembled = computed(() => {
    const r = this.result();
    return r ? assembleStreamText(r.body) : null;
  });
  protected readonly problem = computed(() => validatePayload(this.payload(), this.contentType()));
  protected readonly formatMoney = formatMoney;
  protected readonly formatCount = formatCount;

  constructor() {
    void this.load();
  }

  protected async load(): Promise<void> {
    this.error.set(null);
    try {
      const res = await this.api.inference.listModels({ provider: Provider.SAGEMAKER });
      const list = res.models.filter((m) => m.provider === Provider.SAGEMAKER);
      this.endpoints.set(list);
      if (!list.some((e) => e.id === this.name())) this.select(list[0]?.id ?? '');
    } catch (err) {
      this.error.set(describeError(err));
    }
  }

  protected select(id: string): void {
    this.name.set(id);
    const ep = this.endpoints().find((e) => e.id === id);
    this.stream.set(!!ep?.capabilities?.streaming);
    const types = ep?.contentTypes ?? [];
    if (types.length > 0 && !types.includes(this.contentType())) this.contentType.set(types[0]!);
  }

  protected setContentType(ct: string): void {
    this.contentType.set(ct);
    if (!ct.includes('json') && this.payload() === SAMPLE_JSON) this.payload.set('Write a haiku about the sea.');
    if (ct.includes('json') && this.payload() === 'Write a haiku about the sea.') this.payload.set(SAMPLE_JSON);
  }

  protected format(): void {
    try {
      this.payload.set(JSON.stringify(JSON.parse(this.payload()), null, 2));
    } catch {
      // Leave invalid JSON as typed; the validation message says what is wrong.
    }
  }

  protected onKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void this.send();
    }
  }

  protected stop(): void {
    this.abort?.abort();
  }

  protected async send(): Promise<void> {
    if (this.busy() || this.problem() || !this.name()) return;
    this.busy.set(true);
    this.error.set(null);
    this.result.set(null);
    const body = new TextEncoder().encode(this.payload());
    const req = { endpointName: this.name(), contentType: this.contentType(), accept: this.contentType(), body };
    const started = performance.now();
    const abort = new AbortController();
    this.abort = abort;
    try {
      if (this.stream() && this.canStream()) {
        const decoder = new TextDecoder();
        const r: EndpointResult = { status: 'ok', body: '', contentType: '', latencyMs: 0, requestId: '', variant: '' };
        this.result.set({ ...r });
        for await (const ev of this.api.inference.invokeEndpointStream(req, { signal: abort.signal })) {
          switch (ev.event.case) {
            case 'start':
              r.requestId = ev.event.value.requestId;
              r.contentType = ev.event.value.contentType;
              r.variant = ev.event.value.invokedProductionVariant;
              break;
            case 'part':
              r.body += decoder.decode(ev.event.value.bytes, { stream: true });
              break;
            case 'metadata':
              if (ev.event.value.metrics) r.metrics = toAnswerMetrics(ev.event.value.metrics);
              break;
          }
          r.latencyMs = performance.now() - started;
          this.result.set({ ...r });
        }
        r.body = formatBody(r.body + decoder.decode(), r.contentType);
        r.latencyMs = r.metrics?.latencyMs ?? performance.now() - started;
        this.result.set({ ...r });
      } else {
        const res = await this.api.inference.invokeEndpoint(req, { signal: abort.signal });
        const text = new TextDecoder().decode(res.body);
        this.result.set({
          status: 'ok',
          body: formatBody(text, res.contentType),
          contentType: res.contentType,
          latencyMs: durationMs(res.metrics?.latency) ?? performance.now() - started,
          requestId: res.requestId,
          variant: res.invokedProductionVariant,
          metrics: res.metrics ? toAnswerMetrics(res.metrics) : undefined,
        });
      }
    } catch (err) {
      if (abort.signal.aborted || ConnectError.from(err).code === Code.Canceled) {
        this.result.update((r) => (r ? { ...r, status: 'stopped' } : r));
      } else {
        this.error.set(describeError(err, { streaming: this.stream() && this.result() !== null }));
        this.result.update((r) => (r ? { ...r, status: 'error' } : r));
      }
    } finally {
      this.busy.set(false);
      this.abort = null;
    }
  }
}
