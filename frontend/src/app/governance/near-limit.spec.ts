import { TestBed } from '@angular/core/testing';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';
import { AdminService } from '@gen/portico/admin/v1/admin_pb';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ListNearLimitRequest, NearLimitSchema } from '@gen/portico/admin/v1/policy_pb';
import { QuotaSubject, QuotaUnit, QuotaWindow } from '@gen/portico/type/v1/quota_pb';
import { TRANSPORT } from '../core/transport';
import { NEAR_PAGE_SIZE, NearLimitList } from './near-limit';

type NearLimitInit = MessageInitShape<typeof NearLimitSchema>;

function entry(user: string, threshold: number, group = ''): NearLimitInit {
  return {
    user: group ? '' : user,
    department: user === 'alice' ? 'Research' : '',
    alert: {
      thresholdPercent: threshold,
      status: {
        limit: {
          subject: group ? QuotaSubject.GROUP : QuotaSubject.USER,
          group,
          window: QuotaWindow.DAY,
          unit: QuotaUnit.TOKENS,
          limit: 1000n,
        },
        used: BigInt(threshold * 10),
      },
    },
  };
}

interface Server {
  requests: ListNearLimitRequest[];
  /** Pages by token: '' is the first. */
  pages: Record<string, { entries: NearLimitInit[]; nextPageToken: string }>;
  /** Fails the call with this token, when set. */
  failOn?: string;
}

function render(server: Server) {
  const transport = createRouterTransport(({ service }) => {
    service(AdminService, {
      listNearLimit: (req) => {
        server.requests.push(req);
        if (server.failOn === req.pageToken) throw new ConnectError('store unavailable', Code.Unavailable);
        const page = server.pages[req.pageToken];
        if (!page) throw new ConnectError('page_token is not one ListNearLimit made', Code.InvalidArgument);
        return page;
      },
    });
  });
  TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
  const fixture = TestBed.createComponent(NearLimitList);
  const el = fixture.nativeElement as HTMLElement;
  const text = (id: string) => Array.from(el.querySelectorAll(`[data-testid="${id}"]`)).map((e) => e.textContent?.trim());
  const settle = async (check: () => void) =>
    vi.waitFor(async () => {
      await fixture.whenStable();
      fixture.detectChanges();
      check();
    });
  const click = (id: string) => el.querySelector<HTMLButtonElement>(`[data-testid="${id}"]`)!.click();
  return { el, text, settle, click };
}

describe('NearLimitList', () => {
  it('loads a page at a time, appends the next page, and ends without a Load more button', async () => {
    const server: Server = {
      requests: [],
      pages: {
        '': { entries: [entry('alice', 100), entry('', 80, 'MLUsers')], nextPageToken: 'page-2' },
        'page-2': { entries: [entry('bob', 80)], nextPageToken: '' },
      },
    };
    const { el, text, settle, click } = render(server);
    await settle(() => expect(text('near-who')).toEqual(['alice', 'Group MLUsers']));
    expect(server.requests.map((r) => [r.pageSize, r.pageToken])).toEqual([[NEAR_PAGE_SIZE, '']]);
    expect(text('near-threshold')).toEqual(['100 %', '80 %']);
    expect(el.querySelector('[data-testid="near-more"]')).not.toBeNull();

    click('near-more');
    await settle(() => expect(text('near-who')).toEqual(['alice', 'Group MLUsers', 'bob']));
    expect(server.requests.map((r) => r.pageToken)).toEqual(['', 'page-2']);
    expect(el.querySelector('[data-testid="near-more"]')).toBeNull();
  });

  it('starts again from the first page on Refresh', async () => {
    const server: Server = {
      requests: [],
      pages: {
        '': { entries: [entry('alice', 80)], nextPageToken: 'page-2' },
        'page-2': { entries: [entry('bob', 80)], nextPageToken: '' },
      },
    };
    const { text, settle, click } = render(server);
    await settle(() => expect(text('near-who')).toEqual(['alice']));
    click('near-more');
    await settle(() => expect(text('near-who')).toEqual(['alice', 'bob']));
    server.pages[''] = { entries: [entry('carol', 100)], nextPageToken: '' };
    click('near-refresh');
    await settle(() => expect(text('near-who')).toEqual(['carol']));
    expect(server.requests.map((r) => r.pageToken)).toEqual(['', 'page-2', '']);
  });

  it('keeps the rows it has when the next page fails, and Try again asks for that page again', async () => {
    const server: Server = {
      requests: [],
      pages: {
        '': { entries: [entry('alice', 80)], nextPageToken: 'page-2' },
        'page-2': { entries: [entry('bob', 80)], nextPageToken: '' },
      },
      failOn: 'page-2',
    };
    const { el, text, settle, click } = render(server);
    await settle(() => expect(text('near-who')).toEqual(['alice']));
    click('near-more');
    await settle(() => expect(el.querySelector('[data-testid="error-message"]')).not.toBeNull());
    expect(el.querySelector('[data-testid="error-message"]')?.textContent).toContain('not ready right now');
    expect(text('near-who')).toEqual(['alice']);

    server.failOn = undefined;
    click('error-retry');
    await settle(() => expect(text('near-who')).toEqual(['alice', 'bob']));
    expect(server.requests.map((r) => r.pageToken)).toEqual(['', 'page-2', 'page-2']);
  });

  it('says so when nobody is near a limit', async () => {
    const { el, settle } = render({ requests: [], pages: { '': { entries: [], nextPageToken: '' } } });
    await settle(() => expect(el.querySelector('[data-testid="near-empty"]')).not.toBeNull());
    expect(el.querySelector('[data-testid="near-more"]')).toBeNull();
  });
});
