import { TestBed } from '@angular/core/testing';
import { createRouterTransport } from '@connectrpc/connect';
import { IdentityService } from '@gen/portico/identity/v1/identity_pb';
import { SessionService } from './session';
import { TRANSPORT } from './transport';

function setup(sessionStatus: number, modelIds: string[] = [], endpointNames: string[] = [], usageAdmin = false) {
  const calls: RequestInit[] = [];
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    calls.push(init);
    if (sessionStatus !== 200) return new Response('{}', { status: sessionStatus });
    return new Response(
      JSON.stringify({
        user: { subject: 's', username: 'bob', email: 'bob@example.com', name: 'Bob', groups: [] },
        expiresAt: '2030-01-01T00:00:00Z',
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  });
  const transport = createRouterTransport(({ service }) => {
    service(IdentityService, {
      getMe: () => ({ principal: { username: 'bob', displayName: 'Bob B.', groups: ['Staff'] }, entitlements: { modelIds, endpointNames, usageAdmin } }),
    });
  });
  TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
  return { session: TestBed.inject(SessionService), calls };
}

describe('SessionService', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reports signed-out on 401 and sends the CSRF header', async () => {
    const { session, calls } = setup(401);
    expect(await session.load()).toBe('signed-out');
    expect(new Headers(calls[0]!.headers).get('X-CSRF')).toBe('1');
    expect(calls[0]!.credentials).toBe('same-origin');
  });

  it('loads the user and entitlements; no models and no endpoints means no access', async () => {
    const { session } = setup(200);
    expect(await session.load()).toBe('signed-in');
    expect(session.displayName()).toBe('Bob B.');
    expect(session.groups()).toEqual(['Staff']);
    expect(session.hasAccess()).toBe(false);
    expect(session.usageAdmin()).toBe(false);
  });

  it('grants access with a model and knows usage admins', async () => {
    const { session } = setup(200, ['amazon.nova-lite-v1:0'], [], true);
    await session.load();
    expect(session.hasAccess()).toBe(true);
    expect(session.usageAdmin()).toBe(true);
  });

  it('signs out with a POST carrying the CSRF header and the empty body\'s SHA-256', async () => {
    const { session, calls } = setup(200);
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, assign });
    await session.signOut();
    const logout = calls.at(-1)!;
    expect(logout.method).toBe('POST');
    const headers = new Headers(logout.headers);
    expect(headers.get('X-CSRF')).toBe('1');
    expect(headers.get('x-amz-content-sha256')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(logout.credentials).toBe('same-origin');
  });

  it('reports unreachable when the BFF cannot be reached', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: createRouterTransport(() => {}) }] });
    expect(await TestBed.inject(SessionService).load()).toBe('unreachable');
  });
});
