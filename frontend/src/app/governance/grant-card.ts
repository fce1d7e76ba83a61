import { ChangeDetectionStrategy, Component, computed, input, output } from '@angular/core';
import { create } from '@bufbuild/protobuf';
import { GuardrailSchema, PolicyQuotasSchema, type PolicyGroup, type PolicyScope } from '@gen/portico/admin/v1/policy_pb';
import { Icon } from '../core/icon';
import { ListEditor } from './list-editor';
import { guardrailText, quotaFieldsFor, quotaValue, switchText, type QuotaField } from './policy-model';

/** A group or a scope; both carry models, endpoints, knowledge bases, a guardrail and quotas. */
export type Grant = PolicyGroup | PolicyScope;

/** A change to one grant, applied by the page to its draft copy. */
export type GrantEdit = (g: Grant) => void;

/** A field's own problem found before asking the server (a limit that is not a number). */
export interface LocalProblem {
  path: string;
  message: string | null;
}

/** Suggestions for the lists of a grant. */
export interface GrantOptions {
  models: readonly string[];
  endpoints: readonly string[];
  knowledgeBases: readonly string[];
}

/** Parses a count limit as typed: '' is no limit; whole numbers (negative ones too, for the server to refuse). */
export function parseCount(text: string): { ok: true; value: bigint | undefined } | { ok: false } {
  const t = text.trim().replace(/[,_\s]/g, '');
  if (t === '') return { ok: true, value: undefined };
  if (!/^-?\d{1,19}$/.test(t)) return { ok: false };
  return { ok: true, value: BigInt(t) };
}

/** One group or machine scope of the policy: what it grants and within which limits. */
@Component({
  selector: 'app-grant-card',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [Icon, ListEditor],
  templateUrl: './grant-card.html',
  styleUrl: './grant-card.scss',
})
export class GrantCard {
  readonly grant = input.required<Grant>();
  readonly kind = input.required<'group' | 'scope'>();
  readonly index = input.required<number>();
  readonly editing = input(false);
  readonly problems = input<ReadonlyMap<string, string[]>>(new Map());
  readonly options = input<GrantOptions>({ models: [], endpoints: [], knowledgeBases: [] });
  /** Whether the policy's members of this group may edit the policy (a badge). */
  readonly policyAdmin = input(false);
  readonly usageAdmin = input(false);

  readonly edit = output<GrantEdit>();
  readonly remove = output<void>();
  readonly localProblem = output<LocalProblem>();

  protected readonly base = computed(() => `${this.kind() === 'group' ? 'groups' : 'scopes'}[${this.index()}]`);
  protected readonly name = computed(() => {
    const g = this.grant();
    return 'scope' in g ? g.scope : g.name;
  });
  protected readonly group = computed(() => (this.kind() === 'group' ? (this.grant() as PolicyGroup) : null));
  protected readonly fields = computed(() => quotaFieldsFor(this.kind()));
  protected readonly setQuotas = computed(() => this.fields().filter((f) => quotaValue(this.grant().quotas, f) !== quotaValue(undefined, f)));
  protected readonly quotaValue = quotaValue;
  protected readonly guardrailText = guardrailText;
  protected readonly switchText = switchText;
  protected readonly noLimit = $localize`:@@grant.noLimitPlaceholder:No limit`;
  protected readonly cardId = computed(() => `${this.kind()}-${this.index()}`);

  protected readonly nameLabel = computed(() => (this.kind() === 'group' ? $localize`:@@grant.groupName:Group name` : $localize`:@@grant.scopeName:OAuth scope`));
  protected readonly L = {
    models: $localize`:@@grant.models:Models`,
    endpoints: $localize`:@@grant.endpoints:SageMaker endpoints`,
    kbs: $localize`:@@grant.kbs:Knowledge bases`,
    noModels: $localize`:@@grant.noModels:No models`,
    noEndpoints: $localize`:@@grant.noEndpoints:No endpoints`,
    noKbs: $localize`:@@grant.noKbs:No knowledge bases`,
    addModel: $localize`:@@grant.addModel:Add a model id`,
    addEndpoint: $localize`:@@grant.addEndpoint:Add an endpoint name`,
    addKb: $localize`:@@grant.addKb:Add a knowledge base id`,
  };

  protected problemsAt(path: string): string[] {
    return this.problems().get(path) ?? [];
  }

  protected fieldId(path: string): string {
    return `f-${path.replace(/[^a-zA-Z0-9]/g, '-')}`;
  }

  protected rawQuota(f: QuotaField): string {
    const v = this.grant().quotas?.[f.key];
    return v === undefined ? '' : String(v);
  }

  protected setName(v: string): void {
    const value = v.trim();
    this.edit.emit((g) => {
      if ('scope' in g) g.scope = value;
      else g.name = value;
    });
  }

  protected setList(key: 'models' | 'endpoints' | 'knowledgeBases', list: string[]): void {
    this.edit.emit((g) => {
      g[key] = list;
    });
  }

  protected setQuota(f: QuotaField, text: string): void {
    const path = `${this.base()}.quotas.${f.key}`;
    let value: bigint | string | undefined;
    if (f.kind === 'count') {
      const parsed = parseCount(text);
      if (!parsed.ok) {
        this.localProblem.emit({ path, message: $localize`:@@grant.notCount:Enter a whole number, or leave empty for no limit.` });
        return;
      }
      value = parsed.value;
    } else {
      const t = text.trim();
      value = t === '' ? undefined : t;
    }
    this.localProblem.emit({ path, message: null });
    this.edit.emit((g) => {
      g.quotas ??= create(PolicyQuotasSchema);
      (g.quotas as unknown as Record<string, unknown>)[f.key] = value;
    });
  }

  protected setGuardrail(part: 'id' | 'version', text: string): void {
    const v = text.trim();
    this.edit.emit((g) => {
      const gr = g.guardrail ?? create(GuardrailSchema);
      gr[part] = v;
      g.guardrail = gr.id === '' && gr.version === '' ? undefined : gr;
    });
  }

  protected setSwitch(key: 'history' | 'apiKeys', v: string): void {
    this.edit.emit((g) => {
      (g as PolicyGroup)[key] = v === 'on' ? true : v === 'off' ? false : undefined;
    });
  }

  protected switchValue(v: boolean | undefined): string {
    return v === true ? 'on' : v === false ? 'off' : 'default';
  }
}
