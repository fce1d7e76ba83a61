import { expect, type Locator, type Page, type Response } from '@playwright/test';

/**
 * What the specs read off the wire and off the screen to check the numbers people see: the
 * answers the browser received (the ConverseStream responses the page itself got), the API
 * read through the page (same origin, its session cookie and CSRF header, Connect's JSON
 * protocol), and the numbers and money amounts as the page formats them.
 */

/** Usage totals in exact integers (cost in nano-units of the currency). */
export interface Totals {
  requests: bigint;
  errors: bigint;
  inputTokens: bigint;
  outputTokens: bigint;
  totalTokens: bigint;
  costNanos: bigint;
}

/** Totals of nothing. */
export const ZERO: Totals = { requests: 0n, errors: 0n, inputTokens: 0n, outputTokens: 0n, totalTokens: 0n, costNanos: 0n };

/** A Money in its proto3 JSON form, as nano-units (units are an int64 string, omitted when 0). */
export function nanosOf(m: { units?: string; nanos?: number } | undefined): bigint {
  if (!m) return 0n;
  return BigInt(m.units ?? '0') * 1_000_000_000n + BigInt(m.nanos ?? 0);
}

/** UsageTotals in their proto3 JSON form (int64 as strings, zero fields omitted) as Totals. */
export function totalsOf(j: any): Totals {
  return {
    requests: BigInt(j?.requests ?? '0'),
    errors: BigInt(j?.errors ?? '0'),
    inputTokens: BigInt(j?.inputTokens ?? '0'),
    outputTokens: BigInt(j?.outputTokens ?? '0'),
    totalTokens: BigInt(j?.totalTokens ?? '0'),
    costNanos: nanosOf(j?.estimatedCost),
  };
}

/** a + b, field by field. */
export function plus(a: Totals, b: Totals): Totals {
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    costNanos: a.costNanos + b.costNanos,
  };
}

/** Totals as plain strings, for readable expect diffs. */
export function show(t: Totals): Record<keyof Totals, string> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, String(v)])) as Record<keyof Totals, string>;
}

/** One streamed answer as the browser received it. */
export interface Answer {
  requestId: string;
  modelId: string;
  text: string;
  /** The usage of this one request: requests 1, and the answer's tokens and cost. */
  usage: Totals;
}

/** Splits a Connect streaming body (5-byte envelopes) into its JSON messages and end-stream. */
export function envelopes(body: Buffer): { messages: unknown[]; end: unknown } {
  const messages: unknown[] = [];
  let end: unknown = undefined;
  let off = 0;
  while (off + 5 <= body.length) {
    const flags = body[off]!;
    const len = body.readUInt32BE(off + 1);
    const json = JSON.parse(body.subarray(off + 5, off + 5 + len).toString('utf8'));
    if (flags & 0b10) end = json;
    else messages.push(json);
    off += 5 + len;
  }
  expect(off, 'the stream ends on an envelope boundary').toBe(body.length);
  return { messages, end };
}

/**
 * Waits for the next ConverseStream response of the page and returns the answer it carried
 * (call before sending; await after). The stream must have ended cleanly.
 */
export async function nextAnswer(page: Page): Promise<Answer> {
  const res = await page.waitForResponse((r) => r.url().endsWith('/portico.inference.v1.InferenceService/ConverseStream'), {
    timeout: 30_000,
  });
  return answerOf(res);
}

async function answerOf(res: Response): Promise<Answer> {
  expect(res.status()).toBe(200);
  const { messages, end } = envelopes(await res.body());
  expect(end, 'the stream ended without an error').toEqual({});
  const a: Answer = { requestId: '', modelId: '', text: '', usage: { ...ZERO, requests: 1n } };
  let metrics = false;
  for (const m of messages as any[]) {
    if (m.start) {
      a.requestId = m.start.requestId;
      a.modelId = m.start.modelId ?? '';
    }
    if (m.delta) a.text += m.delta.text ?? '';
    if (m.metadata?.metrics) {
      const x = m.metadata.metrics;
      a.usage = { ...totalsOf(x), requests: 1n, errors: 0n };
      metrics = true;
    }
  }
  expect(a.requestId, 'the answer names its request').not.toBe('');
  expect(metrics, 'the answer reported its usage').toBe(true);
  expect(a.usage.totalTokens).toBe(a.usage.inputTokens + a.usage.outputTokens);
  expect(a.usage.outputTokens).toBeGreaterThan(0n);
  expect(a.usage.costNanos).toBeGreaterThan(0n);
  return a;
}

/** Calls a unary procedure (e.g. `portico.inference.v1.InferenceService/GetUsage`) as the page. */
export async function callApi(page: Page, procedure: string, body: object): Promise<unknown> {
  const [status, text] = await page.evaluate(
    async ([p, b]) => {
      const r = await fetch(`/api/${p}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF': '1' },
        body: JSON.stringify(b),
        credentials: 'same-origin',
      });
      return [r.status, await r.text()] as const;
    },
    [procedure, body] as const,
  );
  expect(status, `${procedure}: ${text}`).toBe(200);
  return JSON.parse(text);
}

/** The message a Connect GET request carries (the SPA sends side-effect-free calls as GET). */
export function getMessage(res: Response): unknown {
  const url = new URL(res.url());
  const m = url.searchParams.get('message');
  return m === null ? null : JSON.parse(m);
}

/** A count as the page shows it ("1,234") as a bigint; fails on anything else. */
export function countOf(text: string): bigint {
  const t = text.trim();
  expect(t, 'a count').toMatch(/^\d{1,3}(,\d{3})*$/);
  return BigInt(t.replace(/,/g, ''));
}

/** The first count in a text such as "1,234 requests". */
export function leadingCount(text: string): bigint {
  const m = /^\s*≈?\s*([\d,]+)/.exec(text);
  expect(m, `a count at the start of ${JSON.stringify(text)}`).not.toBeNull();
  return countOf(m![1]!);
}

/**
 * Checks that a money amount as the page shows it ("$0.000362", possibly inside other text)
 * is nanos rounded to the digits shown: USD, and off by at most half of its last digit.
 */
export function expectMoney(text: string, nanos: bigint, what: string): void {
  const m = /\$(\d[\d,]*)\.(\d+)/.exec(text);
  expect(m, `${what}: a dollar amount in ${JSON.stringify(text)}`).not.toBeNull();
  const digits = m![2]!.length;
  const shown = BigInt(m![1]!.replace(/,/g, '') + m![2]!) * 10n ** BigInt(9 - digits); // in nanos
  const halfUlp = 5n * 10n ** BigInt(8 - digits);
  const diff = shown > nanos ? shown - nanos : nanos - shown;
  expect(diff <= halfUlp, `${what}: ${JSON.stringify(text)} shows ${nanos} nano-dollars rounded to ${digits} digits`).toBe(true);
}

/** A decimal string such as "0.0003624" (the CSV's cost column) as nano-units. */
export function decimalNanos(s: string): bigint {
  expect(s, 'a decimal amount').toMatch(/^\d+(\.\d{1,9})?$/);
  const [whole, frac = ''] = s.split('.');
  return BigInt(whole!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

/** The whitespace-normalised visible text of an element. */
export async function visibleText(l: Locator): Promise<string> {
  return ((await l.innerText()) ?? '').replace(/\s+/g, ' ').trim();
}

/** Parses CSV text (RFC 4180: quoted cells, CRLF line ends) into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  expect(quoted, 'no unterminated quote').toBe(false);
  expect(row.length === 0 && cell === '', 'the CSV ends with CRLF').toBe(true);
  return rows;
}

/** Today as YYYY-MM-DD in UTC, `daysBack` days ago. */
export function utcDay(daysBack = 0): string {
  return new Date(Date.now() - daysBack * 86_400_000).toISOString().slice(0, 10);
}

/** The error a Connect stream ended with (its end-stream message), if any. */
export interface StreamError {
  code: string;
  message: string;
  details: { type: string; value: string }[];
}

/**
 * Waits for the page's next ConverseStream response (call before sending; await after) and
 * returns how it ended: the answer, or the error of its end-stream message.
 */
export async function nextOutcome(page: Page): Promise<{ answer?: Answer; error?: StreamError }> {
  const res = await page.waitForResponse((r) => r.url().endsWith('/portico.inference.v1.InferenceService/ConverseStream'), {
    timeout: 30_000,
  });
  expect(res.status()).toBe(200);
  const { end } = envelopes(await res.body());
  const error = (end as { error?: StreamError } | undefined)?.error;
  if (error) return { error: { code: error.code, message: error.message ?? '', details: error.details ?? [] } };
  return { answer: await answerOf(res) };
}

/** The fields of a protobuf message by number: varints as bigint, length-delimited as bytes. */
export function protoFields(bytes: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      expect(i < bytes.length, 'a varint inside the message').toBe(true);
      const b = bytes[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = bytes.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      value = bytes.subarray(i, i + 8);
      i += 8;
    } else if (wire === 5) {
      value = bytes.subarray(i, i + 4);
      i += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

/** The limit and used figures of a QuotaExceeded error detail (portico.type.v1). */
export function quotaExceededOf(err: StreamError): { limit: bigint; used: bigint; unit: bigint; window: bigint } {
  const d = err.details.find((x) => x.type === 'portico.type.v1.QuotaExceeded');
  expect(d, `a QuotaExceeded detail in ${JSON.stringify(err)}`).toBeDefined();
  const b64 = d!.value.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = new Uint8Array(Buffer.from(b64 + '='.repeat((4 - (b64.length % 4)) % 4), 'base64'));
  const status = protoFields((protoFields(bytes).get(1)?.[0] as Uint8Array) ?? new Uint8Array());
  const limit = protoFields((status.get(1)?.[0] as Uint8Array) ?? new Uint8Array());
  return {
    limit: (limit.get(5)?.[0] as bigint) ?? 0n,
    unit: (limit.get(4)?.[0] as bigint) ?? 0n,
    window: (limit.get(3)?.[0] as bigint) ?? 0n,
    used: (status.get(2)?.[0] as bigint) ?? 0n,
  };
}
