import type { Guardrail, Policy, PolicyGroup, PolicyProblem, PolicyQuotas, PolicyScope } from '@gen/portico/admin/v1/policy_pb';
import { formatCount } from '../core/money';

/**
 * What the policy page knows about the policy's structure: the quota and budget fields with
 * their labels, the field paths the server's problems point at, and a readable diff of two
 * policies ("Group MLUsers · Tokens per person per day: was 200,000, now 1,000").
 */

/** A quota or budget field of PolicyQuotas. */
export interface QuotaField {
  /** The PolicyQuotas property, which is also the YAML name in problem paths. */
  key: keyof Omit<PolicyQuotas, '$typeName' | '$unknown'>;
  /** The label for people. */
  label: string;
  /** Whole counts (tokens, requests) or a decimal amount of money. */
  kind: 'count' | 'money';
  /** Whether the limit is shared by a group's members (meaningless for machine scopes). */
  group: boolean;
}

/** The quota and budget fields, in the order the page shows them. */
export const QUOTA_FIELDS: readonly QuotaField[] = [
  { key: 'userRequestsPerMinute', label: $localize`:@@policy.q.rpm:Requests per person per minute`, kind: 'count', group: false },
  { key: 'userTokensPerDay', label: $localize`:@@policy.q.tpd:Tokens per person per day`, kind: 'count', group: false },
  { key: 'userTokensPerMonth', label: $localize`:@@policy.q.tpm:Tokens per person per month`, kind: 'count', group: false },
  { key: 'groupTokensPerMonth', label: $localize`:@@policy.q.gtpm:Tokens per month, whole group`, kind: 'count', group: true },
  { key: 'userCostPerDay', label: $localize`:@@policy.q.cpd:Budget per person per day`, kind: 'money', group: false },
  { key: 'userCostPerMonth', label: $localize`:@@policy.q.cpm:Budget per person per month`, kind: 'money', group: false },
  { key: 'groupCostPerDay', label: $localize`:@@policy.q.gcpd:Budget per day, whole group`, kind: 'money', group: true },
  { key: 'groupCostPerMonth', label: $localize`:@@policy.q.gcpm:Budget per month, whole group`, kind: 'money', group: true },
];

/** The quota fields that apply to a group, or to a machine scope (no group pools). */
export function quotaFieldsFor(kind: 'group' | 'scope'): readonly QuotaField[] {
  return kind === 'group' ? QUOTA_FIELDS : QUOTA_FIELDS.filter((f) => !f.group);
}

/** "No limit", the value of an unset quota. */
export const NO_LIMIT = $localize`:@@policy.noLimit:no limit`;

/** A quota's value for people: grouped digits, a budget as written, unset as "no limit". */
export function quotaValue(q: PolicyQuotas | undefined, f: QuotaField): string {
  const v = q?.[f.key];
  if (v === undefined || v === '') return NO_LIMIT;
  return typeof v === 'bigint' ? formatCount(v) : v;
}

/** A guardrail for people. */
export function guardrailText(g: { id: string; version: string } | undefined): string {
  if (!g || !g.id) return $localize`:@@policy.none:none`;
  return $localize`:@@policy.guardrail:${g.id}:id: (version ${g.version || 'DRAFT'}:version:)`;
}

/** An optional switch that defaults to on, for people. */
export function switchText(v: boolean | undefined): string {
  return v === false ? $localize`:@@policy.off:off` : v === true ? $localize`:@@policy.on:on` : $localize`:@@policy.onDefault:on (default)`;
}

// --- Where problems go -------------------------------------------------------------------

/** The paths of the fields of one group or scope (the YAML names the server's problems use). */
function grantPaths(base: string, kind: 'group' | 'scope'): string[] {
  const out = [base, `${base}.${kind === 'group' ? 'name' : 'scope'}`, `${base}.models`, `${base}.endpoints`, `${base}.knowledgeBases`, `${base}.guardrail`, `${base}.quotas`];
  for (const f of quotaFieldsFor(kind)) out.push(`${base}.quotas.${f.key}`);
  if (kind === 'group') out.push(`${base}.history`, `${base}.apiKeys`);
  return out;
}

/** Every field path the policy page shows an input (or a section) for. */
export function knownPaths(p: Policy): Set<string> {
  const out = new Set<string>(['usageAdmins', 'policyAdmins', 'guardrails', 'groupIds', 'keyMaxIdleDays', 'keyMaxExpiryDays', 'groups', 'scopes']);
  p.groups.forEach((_, i) => grantPaths(`groups[${i}]`, 'group').forEach((x) => out.add(x)));
  p.scopes.forEach((_, i) => grantPaths(`scopes[${i}]`, 'scope').forEach((x) => out.add(x)));
  p.guardrails.forEach((_, i) => out.add(`guardrails[${i}]`));
  return out;
}

/** The path without a leading "$." (the YAML loader's spelling) and surrounding space. */
export function normalPath(path: string): string {
  return path.trim().replace(/^\$\.?/, '');
}

/** The path of the enclosing field: `a[1].b` → `a[1]` → `a` → ''. */
export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut > 0 ? path.slice(0, cut) : '';
}

/**
 * Places each problem at the deepest known field its path is in (`groups[0].models[3]` under
 * the models field of group 0), or under '' (the policy as a whole) when none is known. Each
 * list keeps the server's order.
 */
export function placeProblems(problems: readonly Pick<PolicyProblem, 'path' | 'message'>[], known: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of problems) {
    let at = normalPath(p.path);
    while (at !== '' && !known.has(at)) at = parentPath(at);
    const list = out.get(at) ?? [];
    list.push(p.message);
    out.set(at, list);
  }
  return out;
}

// --- What changed ------------------------------------------------------------------------

/** One difference between two policies, in words. */
export interface PolicyChange {
  /** What it is about: "Group MLUsers", "Machine scope portico/inference" or "Policy". */
  subject: string;
  /** The field: "Tokens per person per day"; empty when the subject itself was added or removed. */
  field: string;
  kind: 'added' | 'removed' | 'changed';
  /** The value before and after, for a changed single value. */
  before?: string;
  after?: string;
  /** The whole change as one sentence. */
  text: string;
}

function listText(xs: readonly string[]): string {
  return xs.length > 0 ? xs.join(', ') : $localize`:@@policy.nothing:none`;
}

/** Added and removed members of a list (a set: order and repeats do not count). */
function listChange(subject: string, field: string, before: readonly string[], after: readonly string[]): PolicyChange | null {
  const b = new Set(before);
  const a = new Set(after);
  const added = [...a].filter((x) => !b.has(x));
  const removed = [...b].filter((x) => !a.has(x));
  if (added.length === 0 && removed.length === 0) return null;
  const parts: string[] = [];
  if (added.length > 0) parts.push($localize`:@@policy.diff.added:added ${added.join(', ')}:items:`);
  if (removed.length > 0) parts.push($localize`:@@policy.diff.removed:removed ${removed.join(', ')}:items:`);
  return {
    subject,
    field,
    kind: 'changed',
    before: listText(before),
    after: listText(after),
    text: `${subject} · ${field}: ${parts.join('; ')}`,
  };
}

function valueChange(subject: string, field: string, before: string, after: string): PolicyChange | null {
  if (before === after) return null;
  return {
    subject,
    field,
    kind: 'changed',
    before,
    after,
    text: $localize`:@@policy.diff.was:${subject}:subject: · ${field}:field:: was ${before}:before:, now ${after}:after:`,
  };
}

const L = {
  models: $localize`:@@policy.f.models:Models`,
  endpoints: $localize`:@@policy.f.endpoints:Endpoints`,
  knowledgeBases: $localize`:@@policy.f.kbs:Knowledge bases`,
  guardrail: $localize`:@@policy.f.guardrail:Guardrail`,
  history: $localize`:@@policy.f.history:Conversation history`,
  apiKeys: $localize`:@@policy.f.apiKeys:Personal API keys`,
  usageAdmins: $localize`:@@policy.f.usageAdmins:Usage admins`,
  policyAdmins: $localize`:@@policy.f.policyAdmins:Policy admins`,
  keyMaxIdleDays: $localize`:@@policy.f.keyIdle:API key idle days`,
  keyMaxExpiryDays: $localize`:@@policy.f.keyExpiry:API key lifetime days`,
  groupIds: $localize`:@@policy.f.groupIds:Entra group id`,
  modelGuardrail: $localize`:@@policy.f.modelGuardrail:Guardrail of model`,
  policy: $localize`:@@policy.subject:Policy`,
};

/** The subject of a group or scope in change sentences. */
export function grantSubject(kind: 'group' | 'scope', name: string): string {
  return kind === 'group' ? $localize`:@@policy.groupSubject:Group ${name}:name:` : $localize`:@@policy.scopeSubject:Machine scope ${name}:name:`;
}

type Grant = PolicyGroup | PolicyScope;

function grantName(g: Grant): string {
  return 'scope' in g ? g.scope : g.name;
}

function summary(g: Grant): string {
  const n = g.models.length + g.endpoints.length;
  return n === 1 ? $localize`:@@policy.diff.oneThing:1 model or endpoint` : $localize`:@@policy.diff.things:${n}:n: models and endpoints`;
}

function grantChanges(kind: 'group' | 'scope', before: readonly Grant[], after: readonly Grant[]): PolicyChange[] {
  const out: PolicyChange[] = [];
  const old = new Map(before.map((g) => [grantName(g), g]));
  const now = new Map(after.map((g) => [grantName(g), g]));
  for (const [name, g] of old) {
    if (!now.has(name)) {
      const subject = grantSubject(kind, name);
      out.push({ subject, field: '', kind: 'removed', text: $localize`:@@policy.diff.grantRemoved:${subject}:subject: removed` });
    }
  }
  for (const [name, a] of now) {
    const subject = grantSubject(kind, name);
    const b = old.get(name);
    if (!b) {
      out.push({ subject, field: '', kind: 'added', text: $localize`:@@policy.diff.grantAdded:${subject}:subject: added (${summary(a)}:summary:)` });
      continue;
    }
    const push = (c: PolicyChange | null) => c && out.push(c);
    push(listChange(subject, L.models, b.models, a.models));
    push(listChange(subject, L.endpoints, b.endpoints, a.endpoints));
    push(listChange(subject, L.knowledgeBases, b.knowledgeBases, a.knowledgeBases));
    for (const f of quotaFieldsFor(kind)) push(valueChange(subject, f.label, quotaValue(b.quotas, f), quotaValue(a.quotas, f)));
    push(valueChange(subject, L.guardrail, guardrailText(b.guardrail as Guardrail | undefined), guardrailText(a.guardrail as Guardrail | undefined)));
    if (kind === 'group') {
      const bg = b as PolicyGroup;
      const ag = a as PolicyGroup;
      push(valueChange(subject, L.history, switchText(bg.history), switchText(ag.history)));
      push(valueChange(subject, L.apiKeys, switchText(bg.apiKeys), switchText(ag.apiKeys)));
    }
  }
  return out;
}

function optionalDays(v: number | undefined): string {
  return v === undefined ? $localize`:@@policy.default:default` : formatCount(v);
}

function usageAdminsOf(p: Policy): string[] {
  return p.usageAdminsSet || p.usageAdmins.length > 0 ? p.usageAdmins : ['Administrators'];
}

/** What changes from before to after, in words: the policy's settings, then groups, then scopes. */
export function diffPolicy(before: Policy, after: Policy): PolicyChange[] {
  const out: PolicyChange[] = [];
  const push = (c: PolicyChange | null) => c && out.push(c);
  push(listChange(L.policy, L.policyAdmins, before.policyAdmins, after.policyAdmins));
  push(listChange(L.policy, L.usageAdmins, usageAdminsOf(before), usageAdminsOf(after)));
  push(valueChange(L.policy, L.keyMaxIdleDays, optionalDays(before.keyMaxIdleDays), optionalDays(after.keyMaxIdleDays)));
  push(valueChange(L.policy, L.keyMaxExpiryDays, optionalDays(before.keyMaxExpiryDays), optionalDays(after.keyMaxExpiryDays)));
  const gb = new Map(before.guardrails.map((g) => [g.model, g]));
  const ga = new Map(after.guardrails.map((g) => [g.model, g]));
  for (const model of new Set([...gb.keys(), ...ga.keys()])) {
    push(valueChange(L.policy, `${L.modelGuardrail} ${model}`, guardrailText(gb.get(model)), guardrailText(ga.get(model))));
  }
  for (const id of new Set([...Object.keys(before.groupIds), ...Object.keys(after.groupIds)])) {
    push(valueChange(L.policy, `${L.groupIds} ${id}`, before.groupIds[id] ?? listText([]), after.groupIds[id] ?? listText([])));
  }
  out.push(...grantChanges('group', before.groups, after.groups));
  out.push(...grantChanges('scope', before.scopes, after.scopes));
  return out;
}
