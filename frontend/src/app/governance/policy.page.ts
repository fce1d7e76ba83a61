import { ChangeDetectionStrategy, Component, DestroyRef, ElementRef, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { clone, create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { MatButtonModule } from '@angular/material/button';
import { MatTabsModule } from '@angular/material/tabs';
import {
  ModelGuardrailSchema,
  PolicyGroupSchema,
  PolicyInvalidSchema,
  PolicyMode,
  PolicySchema,
  PolicyScopeSchema,
  type GetPolicyResponse,
  type Policy,
  type PolicyProblem,
  type PolicyVersion,
} from '@gen/portico/admin/v1/policy_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { Icon } from '../core/icon';
import { formatCount } from '../core/money';
import { SessionService } from '../core/session';
import { ErrorBanner } from '../errors/error-banner';
import { formatTime } from '../usage/usage-format';
import { GrantCard, parseCount, type Grant, type GrantEdit, type GrantOptions, type LocalProblem } from './grant-card';
import { ListEditor } from './list-editor';
import { NearLimitList } from './near-limit';
import { PolicyHistory, versionKind } from './policy-history';
import { diffPolicy, guardrailText, knownPaths, placeProblems, type PolicyChange } from './policy-model';

/** How long typing pauses before the draft is checked by the server. */
export const VALIDATE_DEBOUNCE_MS = 400;

/** What a stale save left behind: the version it was based on and the changes it carried. */
interface Stale {
  base: bigint;
  changes: PolicyChange[];
}

/**
 * The policy as Portico runs it: groups and machine scopes with their models, endpoints,
 * knowledge bases, quotas, budgets and guardrails; for policy admins, an editor checked by the
 * server as they type, a review of the changes before saving, the version history with
 * rollback, and who is near a limit.
 */
@Component({
  selector: 'app-policy-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { '(window:beforeunload)': 'onBeforeUnload($event)' },
  imports: [MatButtonModule, MatTabsModule, Icon, ErrorBanner, GrantCard, ListEditor, PolicyHistory, NearLimitList],
  templateUrl: './policy.page.html',
  styleUrl: './policy.page.scss',
})
export class PolicyPage {
  private readonly api = inject(Api);
  protected readonly session = inject(SessionService);
  private readonly reviewHeading = viewChild<ElementRef<HTMLElement>>('reviewHeading');
  private readonly noticeEl = viewChild<ElementRef<HTMLElement>>('notice');

  protected readonly loaded = signal<GetPolicyResponse | null>(null);
  protected readonly loading = signal(false);
  protected readonly loadError = signal<FriendlyError | null>(null);
  protected readonly tab = signal(0);

  /** The edited copy; null when not editing. */
  protected readonly draft = signal<Policy | null>(null);
  protected readonly serverProblems = signal<PolicyProblem[]>([]);
  protected readonly localProblems = signal<ReadonlyMap<string, string>>(new Map());
  protected readonly validating = signal(false);
  protected readonly validateError = signal<FriendlyError | null>(null);
  protected readonly reviewing = signal(false);
  protected readonly comment = signal('');
  protected readonly saving = signal(false);
  protected readonly saveError = signal<FriendlyError | null>(null);
  protected readonly stale = signal<Stale | null>(null);
  protected readonly saved = signal<PolicyVersion | null>(null);
  private validateSeq = 0;

  protected readonly editing = computed(() => this.draft() !== null);
  protected readonly policy = computed(() => this.draft() ?? this.loaded()?.policy ?? null);
  protected readonly version = computed(() => this.loaded()?.version?.version ?? 0n);
  protected readonly fileMode = computed(() => this.loaded()?.mode === PolicyMode.FILE);
  protected readonly editable = computed(() => !!this.loaded()?.editable && !this.fileMode());
  protected readonly changes = computed(() => {
    const d = this.draft();
    const p = this.loaded()?.policy;
    return d && p ? diffPolicy(p, d) : [];
  });
  protected readonly problems = computed(() => {
    const p = this.policy();
    if (!p) return new Map<string, string[]>();
    const all: Pick<PolicyProblem, 'path' | 'message'>[] = [...this.localProblems()].map(([path, message]) => ({ path, message }));
    all.push(...this.serverProblems());
    return placeProblems(all, knownPaths(p));
  });
  protected readonly problemCount = computed(() => this.localProblems().size + this.serverProblems().length);
  protected readonly generalProblems = computed(() => this.problems().get('') ?? []);
  protected readonly canReview = computed(
    () => this.editing() && this.changes().length > 0 && this.problemCount() === 0 && !this.validating() && !this.validateError(),
  );
  /** Suggestions: every name the policy uses, plus what the caller may use. */
  protected readonly options = computed<GrantOptions>(() => {
    const p = this.policy();
    const grants: Grant[] = p ? [...p.groups, ...p.scopes] : [];
    const base = this.loaded()?.policy;
    if (base) grants.push(...base.groups, ...base.scopes);
    return {
      models: [...new Set([...grants.flatMap((g) => g.models), ...this.session.modelIds()])],
      endpoints: [...new Set([...grants.flatMap((g) => g.endpoints), ...this.session.endpointNames()])],
      knowledgeBases: [...new Set(grants.flatMap((g) => g.knowledgeBases))],
    };
  });
  /** Shows only the groups and scopes whose name, models, endpoints or knowledge bases hold this text. */
  protected readonly filter = signal('');
  protected matches(g: Grant): boolean {
    const f = this.filter().trim().toLowerCase();
    if (!f) return true;
    const name = 'scope' in g ? g.scope : g.name;
    return [name, ...g.models, ...g.endpoints, ...g.knowledgeBases].some((x) => x.toLowerCase().includes(f));
  }

  protected readonly groupNames = computed(() => this.policy()?.groups.map((g) => g.name).filter(Boolean) ?? []);
  protected readonly usageAdmins = computed(() => {
    const p = this.policy();
    if (!p) return [];
    return p.usageAdminsSet || p.usageAdmins.length > 0 ? p.usageAdmins : ['Administrators'];
  });
  protected readonly groupIds = computed(() => Object.entries(this.policy()?.groupIds ?? {}).sort((a, b) => a[1].localeCompare(b[1])));

  protected readonly formatTime = formatTime;
  protected readonly formatCount = formatCount;
  protected readonly versionKind = versionKind;
  protected readonly guardrailText = guardrailText;
  protected readonly L = {
    policyAdmins: $localize`:@@policy.policyAdmins:Policy admins`,
    policyAdminsHint: $localize`:@@policy.policyAdminsHint:may edit the policy`,
    usageAdmins: $localize`:@@policy.usageAdmins:Usage admins`,
    usageAdminsHint: $localize`:@@policy.usageAdminsHint:may read everyone's usage and the audit trail`,
    groupPlaceholder: $localize`:@@policy.groupPlaceholder:Add a group`,
    noAdmins: $localize`:@@policy.noAdmins:Nobody`,
  };

  constructor() {
    void this.load();
    // Every edit is checked by the server once typing pauses; only the latest answer counts.
    const destroyed = inject(DestroyRef);
    let timer: ReturnType<typeof setTimeout> | undefined;
    effect(() => {
      const d = this.draft();
      clearTimeout(timer);
      if (!d) return;
      untracked(() => this.validating.set(true));
      timer = setTimeout(() => void this.validate(d), VALIDATE_DEBOUNCE_MS);
    });
    destroyed.onDestroy(() => clearTimeout(timer));
  }

  /** Loads the policy in force, leaving any edit. */
  protected async load(): Promise<void> {
    this.loading.set(true);
    this.loadError.set(null);
    try {
      const res = await this.api.admin.getPolicy({});
      this.loaded.set(res);
      this.stopEditing();
      this.stale.set(null);
    } catch (err) {
      this.loadError.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected startEditing(): void {
    const p = this.loaded()?.policy;
    if (!p || !this.editable()) return;
    this.saved.set(null);
    this.stale.set(null);
    this.saveError.set(null);
    this.draft.set(clone(PolicySchema, p));
  }

  protected stopEditing(): void {
    this.validateSeq++;
    this.draft.set(null);
    this.serverProblems.set([]);
    this.localProblems.set(new Map());
    this.validating.set(false);
    this.validateError.set(null);
    this.reviewing.set(false);
    this.comment.set('');
    this.saveError.set(null);
  }

  /** Applies a change to a copy of the draft (signals see a new object). */
  private mutate(fn: (p: Policy) => void): void {
    const d = this.draft();
    if (!d) return;
    const next = clone(PolicySchema, d);
    fn(next);
    this.reviewing.set(false);
    this.draft.set(next);
  }

  protected editGrant(kind: 'group' | 'scope', i: number, fn: GrantEdit): void {
    this.mutate((p) => {
      const g = kind === 'group' ? p.groups[i] : p.scopes[i];
      if (g) fn(g);
    });
  }

  protected removeGrant(kind: 'group' | 'scope', i: number): void {
    // Indexes after i move: problems keyed by them are stale until the server answers again.
    this.localProblems.set(new Map());
    this.serverProblems.set([]);
    this.mutate((p) => void (kind === 'group' ? p.groups.splice(i, 1) : p.scopes.splice(i, 1)));
  }

  protected addGroup(): void {
    this.filter.set('');
    this.mutate((p) => void p.groups.push(create(PolicyGroupSchema, { name: '' })));
    this.focusLast('group');
  }

  protected addScope(): void {
    this.filter.set('');
    this.mutate((p) => void p.scopes.push(create(PolicyScopeSchema, { scope: '' })));
    this.focusLast('scope');
  }

  private focusLast(kind: 'group' | 'scope'): void {
    setTimeout(() => {
      const cards = document.querySelectorAll<HTMLElement>(`[data-testid="${kind}-card"]`);
      cards[cards.length - 1]?.querySelector<HTMLInputElement>('[data-testid="grant-name"]')?.focus();
    });
  }

  protected setLocalProblem(p: LocalProblem): void {
    const next = new Map(this.localProblems());
    if (p.message === null) next.delete(p.path);
    else next.set(p.path, p.message);
    this.localProblems.set(next);
  }

  protected setPolicyAdmins(list: string[]): void {
    this.mutate((p) => (p.policyAdmins = list));
  }

  protected setUsageAdmins(list: string[]): void {
    this.mutate((p) => {
      p.usageAdmins = list;
      p.usageAdminsSet = true;
    });
  }

  protected setDays(key: 'keyMaxIdleDays' | 'keyMaxExpiryDays', text: string): void {
    const parsed = parseCount(text);
    if (!parsed.ok) {
      this.setLocalProblem({ path: key, message: $localize`:@@policy.notDays:Enter a whole number of days, or leave empty for the default.` });
      return;
    }
    this.setLocalProblem({ path: key, message: null });
    this.mutate((p) => (p[key] = parsed.value === undefined ? undefined : Number(parsed.value)));
  }

  protected addModelGuardrail(): void {
    this.mutate((p) => void p.guardrails.push(create(ModelGuardrailSchema, {})));
  }

  protected editModelGuardrail(i: number, key: 'model' | 'id' | 'version', v: string): void {
    this.mutate((p) => {
      const g = p.guardrails[i];
      if (g) g[key] = v.trim();
    });
  }

  protected removeModelGuardrail(i: number): void {
    this.serverProblems.set([]);
    this.mutate((p) => void p.guardrails.splice(i, 1));
  }

  protected problemsAt(path: string): string[] {
    return this.problems().get(path) ?? [];
  }

  private async validate(d: Policy): Promise<void> {
    const seq = ++this.validateSeq;
    try {
      const res = await this.api.admin.validatePolicy({ source: { case: 'policy', value: d } });
      if (seq !== this.validateSeq) return;
      this.serverProblems.set(res.problems);
      this.validateError.set(null);
    } catch (err) {
      if (seq !== this.validateSeq) return;
      this.validateError.set(describeError(err));
    } finally {
      if (seq === this.validateSeq) this.validating.set(false);
    }
  }

  protected retryValidate(): void {
    const d = this.draft();
    if (!d) return;
    this.validating.set(true);
    void this.validate(d);
  }

  protected review(): void {
    if (!this.canReview()) return;
    this.reviewing.set(true);
    setTimeout(() => this.reviewHeading()?.nativeElement.focus());
  }

  protected async save(): Promise<void> {
    const d = this.draft();
    const base = this.version();
    if (!d || this.saving()) return;
    this.saving.set(true);
    this.saveError.set(null);
    try {
      const res = await this.api.admin.updatePolicy({ baseVersion: base, source: { case: 'policy', value: d }, comment: this.comment().trim() });
      const changes = this.changes();
      await this.load();
      this.saved.set(res.version ?? null);
      this.savedChanges.set(changes);
      setTimeout(() => this.noticeEl()?.nativeElement.focus());
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.FailedPrecondition) {
        this.stale.set({ base, changes: this.changes() });
        this.reviewing.set(false);
        setTimeout(() => this.noticeEl()?.nativeElement.focus());
      } else if (ce.code === Code.InvalidArgument && ce.findDetails(PolicyInvalidSchema).length > 0) {
        this.serverProblems.set(ce.findDetails(PolicyInvalidSchema)[0]!.problems);
        this.reviewing.set(false);
      } else {
        this.saveError.set(describeError(err));
      }
    } finally {
      this.saving.set(false);
    }
  }

  /** The changes of the last save, for its confirmation. */
  protected readonly savedChanges = signal<PolicyChange[]>([]);

  protected onRolledBack(v: PolicyVersion): void {
    void this.load().then(() => {
      this.saved.set(v);
      this.savedChanges.set([]);
    });
  }

  protected readonly nextVersion = computed(() => this.version() + 1n);
  protected readonly dayFields: { key: 'keyMaxIdleDays' | 'keyMaxExpiryDays'; label: string }[] = [
    { key: 'keyMaxIdleDays', label: $localize`:@@policy.keyIdle:API keys stop after this many idle days` },
    { key: 'keyMaxExpiryDays', label: $localize`:@@policy.keyExpiry:Longest API key lifetime (days)` },
  ];
  /** Whether leaving now would lose edits (the router's canDeactivate asks first). */
  canLeave(confirm: (message: string) => boolean = (m) => window.confirm(m)): boolean {
    if (!this.editing() || this.changes().length === 0) return true;
    return confirm($localize`:@@policy.leave:You have unsaved changes to the policy. Leave and lose them?`);
  }

  protected onBeforeUnload(e: BeforeUnloadEvent): void {
    if (this.editing() && this.changes().length > 0) e.preventDefault();
  }

  protected readonly unsetText = $localize`:@@policy.defaultDays:default`;
}
