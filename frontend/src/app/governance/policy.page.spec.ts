import { TestBed } from '@angular/core/testing';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';
import { AdminService } from '@gen/portico/admin/v1/admin_pb';
import {
  PolicyChangeKind,
  PolicyInvalidSchema,
  PolicyMode,
  PolicySchema,
  type Policy,
  type UpdatePolicyRequest,
  type ValidatePolicyRequest,
} from '@gen/portico/admin/v1/policy_pb';
import { TRANSPORT } from '../core/transport';
import { PolicyPage, VALIDATE_DEBOUNCE_MS } from './policy.page';

function policy(): Policy {
  return create(PolicySchema, {
    version: 1,
    policyAdmins: ['Administrators'],
    groups: [
      { name: 'MLUsers', models: ['amazon.nova-lite-v1:0'], quotas: { userTokensPerDay: 200_000n } },
      { name: 'Administrators', models: ['amazon.nova-lite-v1:0'] },
    ],
    scopes: [{ scope: 'portico/inference', models: ['amazon.nova-lite-v1:0'] }],
  });
}

interface Server {
  mode?: PolicyMode;
  editable?: boolean;
  validated: ValidatePolicyRequest[];
  updates: UpdatePolicyRequest[];
  /** What UpdatePolicy does: answer (default) or fail. */
  update?: () => void;
}

async function render(server: Server) {
  const transport = createRouterTransport(({ service }) => {
    service(AdminService, {
      getPolicy: () => ({
        version: { version: 7n, author: 'dana', kind: PolicyChangeKind.UPDATE },
        policy: policy(),
        yaml: 'version: 1\n',
        mode: server.mode ?? PolicyMode.STORE,
        editable: server.editable ?? true,
      }),
      validatePolicy: (req) => {
        server.validated.push(req);
        const p = req.source.case === 'policy' ? req.source.value : undefined;
        const tpd = p?.groups[0]?.quotas?.userTokensPerDay;
        return tpd !== undefined && tpd < 0n
          ? { problems: [{ path: 'groups[0].quotas.userTokensPerDay', message: 'userTokensPerDay must not be negative' }] }
          : { problems: [] };
      },
      updatePolicy: (req) => {
        server.updates.push(req);
        server.update?.();
        return { version: { version: req.baseVersion + 1n } };
      },
      listPolicyVersions: () => ({ versions: [] }),
      listNearLimit: () => ({ entries: [] }),
    });
  });
  TestBed.configureTestingModule({ providers: [{ provide: TRANSPORT, useValue: transport }] });
  const fixture = TestBed.createComponent(PolicyPage);
  const el = fixture.nativeElement as HTMLElement;
  const q = (id: string) => el.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  const settle = async () => {
    await fixture.whenStable();
    fixture.detectChanges();
  };
  await vi.waitFor(async () => {
    await settle();
    expect(q('policy-meta')).not.toBeNull();
  });
  return { fixture, el, q, settle };
}

function type(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input'));
}

// The page renders a real template with fake timers; a busy machine needs more than vitest's 5 s.
describe('PolicyPage', { timeout: 60_000 }, () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => vi.useRealTimers());

  it('shows the server’s problem at its field, then a was/now diff, and saves on the base version', async () => {
    const server: Server = { validated: [], updates: [] };
    const { el, q, settle } = await render(server);
    expect(q('policy-version')!.textContent).toContain('Version 7');
    q('policy-edit')!.click();
    await settle();

    const tpd = () => el.querySelector<HTMLInputElement>('[data-testid="group-card"][data-name="MLUsers"] [data-testid="quota-userTokensPerDay"]')!;
    expect(tpd().value).toBe('200000');
    type(tpd(), '-5');
    await settle();
    expect(q('policy-status')!.textContent).toContain('Checking');
    await vi.advanceTimersByTimeAsync(VALIDATE_DEBOUNCE_MS + 10);
    await settle();
    // The server saw the draft and its answer sits under the field, marked invalid.
    expect(server.validated.at(-1)?.source.case).toBe('policy');
    const problem = el.querySelector('[data-testid="group-card"][data-name="MLUsers"] [data-testid="problem-userTokensPerDay"]');
    expect(problem?.textContent).toContain('userTokensPerDay must not be negative');
    expect(tpd().getAttribute('aria-invalid')).toBe('true');
    expect(tpd().getAttribute('aria-describedby')).toBe(problem!.id);
    expect(q('policy-problem-count')!.textContent).toContain('1 problem');
    expect((q('policy-review-button') as HTMLButtonElement).disabled).toBe(true);

    // Not a number at all: refused before asking the server.
    type(tpd(), '12x');
    await vi.advanceTimersByTimeAsync(VALIDATE_DEBOUNCE_MS + 10);
    await settle();
    expect(el.querySelector('[data-testid="problem-userTokensPerDay"]')?.textContent).toContain('whole number');

    type(tpd(), '1000');
    await vi.advanceTimersByTimeAsync(VALIDATE_DEBOUNCE_MS + 10);
    await settle();
    expect(el.querySelector('[data-testid="problem-userTokensPerDay"]')).toBeNull();
    expect(q('policy-change-count')!.textContent).toContain('1 change');
    q('policy-review-button')!.click();
    await settle();
    const rows = el.querySelectorAll('[data-testid="diff-row"]');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.textContent).toContain('Group MLUsers');
    expect(rows[0]!.querySelector('[data-testid="diff-before"]')!.textContent).toBe('200,000');
    expect(rows[0]!.querySelector('[data-testid="diff-after"]')!.textContent).toBe('1,000');

    type(q('policy-comment') as HTMLInputElement, 'tighter for the pilot');
    q('policy-save')!.click();
    await vi.waitFor(async () => {
      await settle();
      expect(q('policy-saved')).not.toBeNull();
    });
    expect(server.updates).toHaveLength(1);
    expect(server.updates[0]!.baseVersion).toBe(7n);
    expect(server.updates[0]!.comment).toBe('tighter for the pilot');
    const sent = server.updates[0]!.source.case === 'policy' ? server.updates[0]!.source.value : undefined;
    expect(sent?.groups[0]?.quotas?.userTokensPerDay).toBe(1000n);
    expect(q('policy-saved')!.textContent).toContain('Saved as version 8');
    expect(q('policy-edit-bar')).toBeNull();
  });

  it('says someone else changed the policy when the save is stale, and reloads', async () => {
    const server: Server = {
      validated: [],
      updates: [],
      update: () => {
        throw new ConnectError('policy changed since version 7', Code.FailedPrecondition);
      },
    };
    const { el, q, settle } = await render(server);
    q('policy-edit')!.click();
    await settle();
    type(el.querySelector<HTMLInputElement>('[data-testid="quota-userTokensPerDay"]')!, '1000');
    await vi.advanceTimersByTimeAsync(VALIDATE_DEBOUNCE_MS + 10);
    await settle();
    q('policy-review-button')!.click();
    await settle();
    q('policy-save')!.click();
    await vi.waitFor(async () => {
      await settle();
      expect(q('policy-stale')).not.toBeNull();
    });
    expect(q('policy-stale')!.textContent).toContain('Someone else changed the policy');
    expect(q('policy-stale-changes')!.textContent).toContain('was 200,000, now 1,000');
    q('policy-reload')!.click();
    await vi.waitFor(async () => {
      await settle();
      expect(q('policy-stale')).toBeNull();
    });
    expect(q('policy-edit-bar')).toBeNull();
  });

  it('lists every problem of a refused save at its field', async () => {
    const server: Server = {
      validated: [],
      updates: [],
      update: () => {
        throw new ConnectError('policy invalid', Code.InvalidArgument, undefined, [
          { desc: PolicyInvalidSchema, value: { problems: [{ path: 'scopes[0].models[0]', message: 'model "x" is not in the catalog' }, { path: 'version', message: 'bad version' }] } },
        ]);
      },
    };
    const { el, q, settle } = await render(server);
    q('policy-edit')!.click();
    await settle();
    type(el.querySelector<HTMLInputElement>('[data-testid="quota-userTokensPerDay"]')!, '1000');
    await vi.advanceTimersByTimeAsync(VALIDATE_DEBOUNCE_MS + 10);
    await settle();
    q('policy-review-button')!.click();
    await settle();
    q('policy-save')!.click();
    await vi.waitFor(async () => {
      await settle();
      expect(q('policy-general-problems')).not.toBeNull();
    });
    expect(q('policy-general-problems')!.textContent).toContain('bad version');
    expect(el.querySelector('[data-testid="scope-card"] [data-testid="models-problems"]')!.textContent).toContain('not in the catalog');
    expect(q('policy-review')).toBeNull();
  });

  it('asks before leaving with unsaved changes, and only then', async () => {
    const { fixture, el, q, settle } = await render({ validated: [], updates: [] });
    const page = fixture.componentInstance;
    const asked: string[] = [];
    const confirm = (m: string) => (asked.push(m), false);
    expect(page.canLeave(confirm)).toBe(true);
    q('policy-edit')!.click();
    await settle();
    expect(page.canLeave(confirm), 'editing without changes').toBe(true);
    type(el.querySelector<HTMLInputElement>('[data-testid="quota-userTokensPerDay"]')!, '1000');
    await settle();
    expect(page.canLeave(confirm)).toBe(false);
    expect(asked).toEqual(['You have unsaved changes to the policy. Leave and lose them?']);
    q('policy-discard')!.click();
    await settle();
    expect(page.canLeave(confirm)).toBe(true);
  });

  it('is read-only, with the reason, when the policy is managed by a file', async () => {
    const { q } = await render({ validated: [], updates: [], mode: PolicyMode.FILE, editable: false });
    expect(q('policy-file-mode')!.textContent).toContain('managed by a file');
    expect(q('policy-mode-file')).not.toBeNull();
    expect(q('policy-edit')).toBeNull();
  });

  it('is read-only for those who may not edit it', async () => {
    const { q, el } = await render({ validated: [], updates: [], editable: false });
    expect(q('policy-read-only')!.textContent).toContain('Only members of Administrators');
    expect(q('policy-edit')).toBeNull();
    expect(el.querySelectorAll('input[data-testid^="quota-"]')).toHaveLength(0);
    expect(el.querySelector('[data-testid="group-card"][data-name="MLUsers"] [data-testid="quota-value-userTokensPerDay"]')!.textContent).toContain('200,000');
  });

  it('finds groups and scopes by name or model', async () => {
    const { el, q, settle } = await render({ validated: [], updates: [] });
    const shown = () => [...el.querySelectorAll('[data-testid$="-card"]')].map((c) => c.getAttribute('data-name'));
    expect(shown()).toEqual(['MLUsers', 'Administrators', 'portico/inference']);
    type(q('policy-filter') as HTMLInputElement, 'mlu');
    await settle();
    expect(shown()).toEqual(['MLUsers']);
    type(q('policy-filter') as HTMLInputElement, 'NOVA-LITE');
    await settle();
    expect(shown()).toEqual(['MLUsers', 'Administrators', 'portico/inference']);
    type(q('policy-filter') as HTMLInputElement, 'inference');
    await settle();
    expect(shown()).toEqual(['portico/inference']);
  });
});
