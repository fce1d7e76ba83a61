import { clone, create } from '@bufbuild/protobuf';
import { PolicySchema, type Policy } from '@gen/portico/admin/v1/policy_pb';
import { prettyChange } from './policy-history';
import { diffPolicy, knownPaths, parentPath, placeProblems } from './policy-model';

function devPolicy(): Policy {
  return create(PolicySchema, {
    version: 1,
    usageAdmins: ['Administrators'],
    usageAdminsSet: true,
    policyAdmins: ['Administrators'],
    groups: [
      {
        name: 'MLUsers',
        models: ['amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0'],
        endpoints: ['portico-demo-llm'],
        quotas: { userRequestsPerMinute: 30n, userTokensPerDay: 200_000n, groupTokensPerMonth: 50_000_000n },
      },
      { name: 'Administrators', models: ['amazon.nova-lite-v1:0'], quotas: { userTokensPerDay: 1_000_000n } },
    ],
    scopes: [{ scope: 'portico/inference', models: ['amazon.nova-lite-v1:0'], quotas: { userTokensPerDay: 500_000n } }],
  });
}

describe('diffPolicy', () => {
  it('finds nothing between equal policies, whatever the order of list members', () => {
    const a = devPolicy();
    const b = clone(PolicySchema, a);
    b.groups[0]!.models.reverse();
    expect(diffPolicy(a, b)).toEqual([]);
  });

  it('says what a quota was and is now', () => {
    const a = devPolicy();
    const b = clone(PolicySchema, a);
    b.groups[0]!.quotas!.userTokensPerDay = 1_000n;
    const changes = diffPolicy(a, b);
    expect(changes.map((c) => c.text)).toEqual(['Group MLUsers · Tokens per person per day: was 200,000, now 1,000']);
    expect(changes[0]).toMatchObject({ subject: 'Group MLUsers', field: 'Tokens per person per day', before: '200,000', after: '1,000', kind: 'changed' });
  });

  it('reads an unset limit as no limit, and budgets as written', () => {
    const a = devPolicy();
    const b = clone(PolicySchema, a);
    b.groups[0]!.quotas!.userRequestsPerMinute = undefined;
    b.groups[0]!.quotas!.userCostPerMonth = '12.50';
    b.scopes[0]!.quotas = undefined;
    expect(diffPolicy(a, b).map((c) => c.text)).toEqual([
      'Group MLUsers · Requests per person per minute: was 30, now no limit',
      'Group MLUsers · Budget per person per month: was no limit, now 12.50',
      'Machine scope portico/inference · Tokens per person per day: was 500,000, now no limit',
    ]);
  });

  it('lists models added and removed, groups added and removed, and settings', () => {
    const a = devPolicy();
    const b = clone(PolicySchema, a);
    b.groups[0]!.models = ['amazon.nova-lite-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0'];
    b.groups.splice(1, 1);
    b.groups.push(create(PolicySchema, { groups: [{ name: 'Contractors', models: ['amazon.nova-lite-v1:0'], history: false }] }).groups[0]!);
    b.policyAdmins = ['MLUsers'];
    b.groups[0]!.history = false;
    b.groups[0]!.guardrail = { $typeName: 'portico.admin.v1.Guardrail', id: 'gr-1', version: '2' };
    expect(diffPolicy(a, b).map((c) => c.text)).toEqual([
      'Policy · Policy admins: added MLUsers; removed Administrators',
      'Group Administrators removed',
      'Group MLUsers · Models: added anthropic.claude-3-5-haiku-20241022-v1:0; removed amazon.nova-pro-v1:0',
      'Group MLUsers · Guardrail: was none, now gr-1 (version 2)',
      'Group MLUsers · Conversation history: was on (default), now off',
      'Group Contractors added (1 model or endpoint)',
    ]);
  });

  it('treats unset usage admins as the default group', () => {
    const a = devPolicy();
    a.usageAdmins = [];
    a.usageAdminsSet = false;
    const b = clone(PolicySchema, a);
    b.usageAdmins = ['Administrators'];
    b.usageAdminsSet = true;
    expect(diffPolicy(a, b)).toEqual([]);
    b.usageAdmins = [];
    expect(diffPolicy(a, b).map((c) => c.text)).toEqual(['Policy · Usage admins: removed Administrators']);
  });
});

describe('placeProblems', () => {
  const known = knownPaths(devPolicy());

  it('puts each problem at the deepest field shown for its path', () => {
    const placed = placeProblems(
      [
        { path: 'groups[0].quotas.userTokensPerDay', message: 'userTokensPerDay must not be negative' },
        { path: 'groups[0].models[1]', message: 'model "x" is not in the catalog' },
        { path: 'groups[0].models[0]', message: 'model "y" is listed twice' },
        { path: '$.groups[1].name', message: 'group "MLUsers" is already defined' },
        { path: 'scopes[0].guardrail.version', message: 'version must be a number or DRAFT' },
        { path: 'policyAdmins', message: 'no policy admin would be left' },
      ],
      known,
    );
    expect(Object.fromEntries(placed)).toEqual({
      'groups[0].quotas.userTokensPerDay': ['userTokensPerDay must not be negative'],
      'groups[0].models': ['model "x" is not in the catalog', 'model "y" is listed twice'],
      'groups[1].name': ['group "MLUsers" is already defined'],
      'scopes[0].guardrail': ['version must be a number or DRAFT'],
      policyAdmins: ['no policy admin would be left'],
    });
  });

  it('keeps problems with no field shown for the policy as a whole', () => {
    const placed = placeProblems(
      [
        { path: '', message: 'the document is empty' },
        { path: 'version', message: 'version must be 1, got 2' },
        { path: 'groups[7].models[0]', message: 'beyond the groups shown' },
      ],
      known,
    );
    expect(placed.get('')).toEqual(['the document is empty', 'version must be 1, got 2']);
    expect(placed.get('groups')).toEqual(['beyond the groups shown']);
  });

  it('walks up paths through indexes and names', () => {
    expect(parentPath('groups[1].quotas.userTokensPerDay')).toBe('groups[1].quotas');
    expect(parentPath('groups[1].quotas')).toBe('groups[1]');
    expect(parentPath('groups[1]')).toBe('groups');
    expect(parentPath('groups')).toBe('');
  });
});

describe('prettyChange', () => {
  it('reads the server’s change lines in the review’s words', () => {
    const cases: [string, string][] = [
      ['groups[MLUsers].quotas.userTokensPerDay: 200000 -> 1000', 'Group MLUsers · Tokens per person per day: was 200,000, now 1,000'],
      ['groups[MLUsers].quotas.userCostPerMonth: set to 12.50', 'Group MLUsers · Budget per person per month: was no limit, now 12.50'],
      ['scopes[portico/inference].quotas.userRequestsPerMinute: removed (was 60)', 'Machine scope portico/inference · Requests per person per minute: was 60, now no limit'],
      ['groups[MLUsers].models: +amazon.nova-pro-v1:0 -amazon.titan-text-express-v1', 'Group MLUsers · Models: added amazon.nova-pro-v1:0; removed amazon.titan-text-express-v1'],
      ['groups[Contractors]: added', 'Group Contractors added'],
      ['scopes[portico/identity]: removed', 'Machine scope portico/identity removed'],
      // Anything else stays as the server wrote it.
      ['usageAdmins: -Administrators', 'usageAdmins: -Administrators'],
      ['groups[MLUsers].history: true -> false', 'groups[MLUsers].history: true -> false'],
      ["no change to the policy's content", "no change to the policy's content"],
    ];
    for (const [line, want] of cases) expect(prettyChange(line), line).toBe(want);
  });
});
