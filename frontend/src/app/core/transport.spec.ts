import { Code, createClient } from '@connectrpc/connect';
import { IdentityService } from '@gen/portico/identity/v1/identity_pb';
import { InferenceService } from '@gen/portico/inference/v1/inference_pb';
import { createPorticoTransport, hashingFetch, loginUrl, redirectToLogin, sha256Hex } from './transport';

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: Uint8Array;
  credentials?: RequestCredentials;
}

function recordingFetch(seen: Seen[], respond: () => Response): typeof fetch {
  return async (input, init = {}) => {
    const b = init.body;
    const body = b == null ? new Uint8Array(0) : new Uint8Array((b as Uint8Array).buffer.slice(0));
    seen.push({
      url: String(input),
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: b == null ? body : new Uint8Array(b as Uint8Array),
      credentials: init.credentials,
    });
    return respond();
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('sha256Hex', () => {
  it('hashes the empty body and a known string', async () => {
    expect(await sha256Hex(new Uint8Array(0))).toBe(EMPTY_SHA256);
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('hashingFetch', () => {
  it('adds the CSRF header, same-origin credentials and the hash of the exact body', async () => {
    const seen: Seen[] = [];
    const f = hashingFetch(recordingFetch(seen, () => json(200, {})));
    await f('/x', { method: 'POST', body: new TextEncoder().encode('hello'), headers: { 'Content-Type': 'text/plain' } });
    expect(seen[0]!.headers.get('X-CSRF')).toBe('1');
    expect(seen[0]!.headers.get('content-type')).toBe('text/plain');
    expect(seen[0]!.credentials).toBe('same-origin');
    expect(seen[0]!.headers.get('x-amz-content-sha256')).toBe(await sha256Hex(new TextEncoder().encode('hello')));
  });
});

describe('createPorticoTransport', () => {
  it('sends side-effect-free calls as GET with the empty-body hash', async () => {
    const seen: Seen[] = [];
    const transport = createPorticoTransport({
      fetch: recordingFetch(seen, () => json(200, { principal: { username: 'alice' } })),
    });
    const res = await createClient(IdentityService, transport).getMe({});
    expect(res.principal?.username).toBe('alice');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.url).toContain('/api/portico.identity.v1.IdentityService/GetMe');
    expect(seen[0]!.headers.get('x-csrf')).toBe('1');
    expect(seen[0]!.headers.get('x-amz-content-sha256')).toBe(EMPTY_SHA256);
  });

  it('hashes exactly the bytes of a POST body', async () => {
    const seen: Seen[] = [];
    const transport = createPorticoTransport({
      fetch: recordingFetch(seen, () => json(200, { requestId: 'r1' })),
    });
    await createClient(InferenceService, transport).converse({ modelId: 'amazon.nova-lite-v1:0' });
    const call = seen[0]!;
    expect(call.method).toBe('POST');
    expect(new TextDecoder().decode(call.body)).toContain('amazon.nova-lite-v1:0');
    expect(call.headers.get('x-amz-content-sha256')).toBe(await sha256Hex(call.body));
    expect(call.headers.get('x-amz-content-sha256')).not.toBe(EMPTY_SHA256);
    expect(call.headers.get('x-csrf')).toBe('1');
  });

  it('hashes the enveloped body of a server stream', async () => {
    const seen: Seen[] = [];
    const envelope = (flags: number, obj: unknown) => {
      const data = new TextEncoder().encode(JSON.stringify(obj));
      const out = new Uint8Array(5 + data.length);
      out[0] = flags;
      new DataView(out.buffer).setUint32(1, data.length);
      out.set(data, 5);
      return out;
    };
    const body = new Uint8Array([...envelope(0, { delta: { text: 'hi' } }), ...envelope(2, {})]);
    const transport = createPorticoTransport({
      fetch: recordingFetch(seen, () => new Response(body, { status: 200, headers: { 'content-type': 'application/connect+json' } })),
    });
    const texts: string[] = [];
    for await (const ev of createClient(InferenceService, transport).converseStream({ modelId: 'm' })) {
      if (ev.event.case === 'delta') texts.push(ev.event.value.text);
    }
    expect(texts).toEqual(['hi']);
    const call = seen[0]!;
    expect(call.method).toBe('POST');
    expect(call.body[0]).toBe(0); // the Connect envelope's flags byte: hashed as sent
    expect(call.headers.get('x-amz-content-sha256')).toBe(await sha256Hex(call.body));
    expect(call.headers.get('x-csrf')).toBe('1');
  });

  it('calls onUnauthenticated when the BFF answers 401', async () => {
    const seen: Seen[] = [];
    let redirected = 0;
    const transport = createPorticoTransport({
      fetch: recordingFetch(seen, () => json(401, { code: 'unauthenticated', message: 'no session' })),
      onUnauthenticated: () => redirected++,
    });
    await expect(createClient(IdentityService, transport).getMe({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(redirected).toBe(1);
  });

  it('does not redirect on other errors', async () => {
    let redirected = 0;
    const transport = createPorticoTransport({
      fetch: recordingFetch([], () => json(403, { code: 'permission_denied', message: 'no' })),
      onUnauthenticated: () => redirected++,
    });
    await expect(createClient(IdentityService, transport).getMe({})).rejects.toMatchObject({ code: Code.PermissionDenied });
    expect(redirected).toBe(0);
  });
});

describe('loginUrl', () => {
  it('keeps local paths and refuses others', () => {
    expect(loginUrl('/chat?x=1')).toBe('/auth/login?returnTo=%2Fchat%3Fx%3D1');
    expect(loginUrl('//evil.example')).toBe('/auth/login?returnTo=%2F');
    expect(loginUrl('https://evil.example')).toBe('/auth/login?returnTo=%2F');
  });
});

describe('redirectToLogin', () => {
  beforeEach(() => sessionStorage.clear());

  it('returns to the current path and does not loop', () => {
    const assigned: string[] = [];
    const loc = { pathname: '/usage', search: '?x=1', assign: (u: string) => assigned.push(u) } as unknown as Location;
    redirectToLogin(loc);
    redirectToLogin(loc);
    expect(assigned).toEqual(['/auth/login?returnTo=%2Fusage%3Fx%3D1']);
    redirectToLogin(loc, { force: true });
    expect(assigned).toHaveLength(2);
  });
});
