import { TestBed } from '@angular/core/testing';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';
import { AdminService, type ListConversationCountsRequest } from '@gen/portico/admin/v1/admin_pb';
import { TRANSPORT } from '../core/transport';
import { AdminUsagePage } from './admin-usage.page';
import { COUNTS_PAGE_SIZE, ConversationCounts } from './conversation-counts';

interface Server {
  requests: ListConversationCountsRequest[];
  /** Fails every call with this code, when set. */
  fail?: Code;
}

function transport(server: Server) {
  return createRouterTransport(({ service }) => {
    service(AdminService, {
      listUsage: () => ({ rows: [], totals: {}, priceTableVersion: 'v1' }),
      listConversationCounts: (req) => {
        server.requests.push(req);
        if (server.fail !== undefined) throw new ConnectError('no conversation store here', server.fail);
        return req.pageToken === ''
          ? {
              people: [{ subject: 'sub-alice', user: 'alice', conversations: 2n, messages: 5n, bytes: 2_500n, people: 1n }],
              totals: { people: 1n, conversations: 2n, messages: 5n, bytes: 2_500n },
              nextPageToken: 'page-2',
            }
          : {
              people: [{ subject: 'sub-bob', conversations: 1n, messages: 1n, bytes: 10n, people: 1n }],
              totals: { people: 2n, conversations: 3n, messages: 6n, bytes: 2_510n },
              nextPageToken: '',
            };
      },
    });
  });
}

/** Settles the fixture until check passes (the fake server answers asynchronously). */
async function settle(fixture: { whenStable(): Promise<unknown>; detectChanges(): void }, check: () => void) {
  await vi.waitFor(async () => {
    await fixture.whenStable();
    fixture.detectChanges();
    check();
  });
}

describe('ConversationCounts', () => {
  it('shows each person in numbers, loads more people, and totals everyone on the last page', async () => {
    const server: Server = { requests: [] };
    TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport(server) }] });
    const fixture = TestBed.createComponent(ConversationCounts);
    const el = fixture.nativeElement as HTMLElement;
    const text = (id: string) => Array.from(el.querySelectorAll(`[data-testid="${id}"]`)).map((e) => e.textContent?.trim());
    await settle(fixture, () => expect(text('conv-subject')).toEqual(['sub-alice']));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.pageSize).toBe(COUNTS_PAGE_SIZE);
    expect(text('conv-subject')).toEqual(['sub-alice']);
    expect(text('conv-user')).toEqual(['alice']);
    expect(text('conv-conversations')).toEqual(['2']);
    expect(text('conv-messages')).toEqual(['5']);
    expect(text('conv-bytes')).toEqual(['3 kB']);
    expect(text('conv-partial')).toHaveLength(1);

    el.querySelector<HTMLButtonElement>('[data-testid="conv-more"]')!.click();
    await settle(fixture, () => expect(text('conv-subject')).toHaveLength(2));
    expect(server.requests.map((r) => r.pageToken)).toEqual(['', 'page-2']);
    expect(text('conv-subject')).toEqual(['sub-alice', 'sub-bob']);
    expect(text('conv-user')).toEqual(['alice']); // bob's name is not known
    expect(text('conv-total-people')).toEqual(['2']);
    expect(text('conv-total-conversations')).toEqual(['3']);
    expect(text('conv-total-messages')).toEqual(['6']);
    expect(text('conv-partial')).toHaveLength(0);
    expect(el.querySelector('[data-testid="conv-more"]')).toBeNull();
  });

  it('says why when the deployment cannot count', async () => {
    const server: Server = { requests: [], fail: Code.FailedPrecondition };
    TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport(server) }] });
    const fixture = TestBed.createComponent(ConversationCounts);
    const el = fixture.nativeElement as HTMLElement;
    await settle(fixture, () => expect(el.querySelector('[data-testid="error-message"]')).not.toBeNull());
    expect(el.querySelector('[data-testid="error-message"]')?.textContent).toContain('no conversation store here');
    expect(el.querySelector('[data-testid="conv-table"]')).toBeNull();
  });

  it('is counted only when its tab on the usage page is opened', async () => {
    const server: Server = { requests: [] };
    TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport(server) }] });
    const fixture = TestBed.createComponent(AdminUsagePage);
    const el = fixture.nativeElement as HTMLElement;
    await settle(fixture, () => expect(el.querySelector('[data-testid="usage-empty"]')).not.toBeNull());
    expect(server.requests).toHaveLength(0);
    const tab = Array.from(el.querySelectorAll<HTMLElement>('[role="tab"]')).find((t) => t.textContent?.includes('Conversations kept'));
    expect(tab).toBeDefined();
    tab!.click();
    await settle(fixture, () => expect(el.querySelector('[data-testid="conv-row"]')).not.toBeNull());
    expect(server.requests).toHaveLength(1);
    expect(el.querySelector('[data-testid="conversation-counts"]')).not.toBeNull();
  });
});
