import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ApiKeySchema } from '@gen/portico/apikey/v1/apikey_pb';
import { examples, PLACEHOLDER_BASE_URL, shellQuote } from './examples';
import { keyStatus } from './keys.page';

describe('API key examples', () => {
  it('point at the deployment and stream', () => {
    const ex = examples('http://localhost:8081/v1/', 'amazon.nova-lite-v1:0');
    expect(ex.curl).toContain(`'http://localhost:8081/v1/chat/completions'`);
    expect(ex.curl).toContain('Authorization: Bearer $PORTICO_API_KEY');
    const body = /-d '(.*)'$/m.exec(ex.curl)?.[1];
    expect(JSON.parse(body ?? '')).toEqual({ model: 'amazon.nova-lite-v1:0', stream: true, messages: [{ role: 'user', content: 'Hello!' }] });
    expect(ex.python).toContain('base_url="http://localhost:8081/v1"');
    expect(ex.javascript).toContain('baseURL: "http://localhost:8081/v1"');
    expect(ex.javascript).toContain('process.env.PORTICO_API_KEY');
  });

  it('show a placeholder when the deployment names no URL', () => {
    expect(examples('', 'm').curl).toContain(PLACEHOLDER_BASE_URL + '/chat/completions');
  });

  it('quote for the shell', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
  });
});

describe('keyStatus', () => {
  const now = new Date('2026-05-14T10:00:00Z');
  it('tells active, expired and revoked keys apart', () => {
    const later = timestampFromDate(new Date('2026-06-01T00:00:00Z'));
    const earlier = timestampFromDate(new Date('2026-05-01T00:00:00Z'));
    expect(keyStatus(create(ApiKeySchema, { expireTime: later }), now)).toBe('active');
    expect(keyStatus(create(ApiKeySchema, { expireTime: earlier }), now)).toBe('expired');
    expect(keyStatus(create(ApiKeySchema, { expireTime: later, revokeTime: earlier }), now)).toBe('revoked');
  });
});
