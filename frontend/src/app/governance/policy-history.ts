import { ChangeDetectionStrategy, Component, ElementRef, effect, inject, input, output, signal, untracked } from '@angular/core';
import { Code, ConnectError } from '@connectrpc/connect';
import { MatButtonModule } from '@angular/material/button';
import { PolicyChangeKind, type PolicyVersion } from '@gen/portico/admin/v1/policy_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { Icon } from '../core/icon';
import { formatCount } from '../core/money';
import { ErrorBanner } from '../errors/error-banner';
import { formatTime } from '../usage/usage-format';
import { QUOTA_FIELDS, grantSubject } from './policy-model';

const LIST_LABELS: Record<string, string> = {
  models: $localize`:@@policy.f.models:Models`,
  endpoints: $localize`:@@policy.f.endpoints:Endpoints`,
  knowledgeBases: $localize`:@@policy.f.kbs:Knowledge bases`,
};

/**
 * A change line of the server's summary (policy.Changes: `groups[MLUsers].quotas.userTokensPerDay:
 * 200000 -> 1000`, `... set to 12.50`, `... removed (was 30)`, `groups[MLUsers].models: +a -b`,
 * `groups[Contractors]: added`) in the words the review uses ("Group MLUsers · Tokens per
 * person per day: was 200,000, now 1,000"); any other line as the server wrote it.
 */
export function prettyChange(line: string): string {
  const m = /^(groups|scopes)\[([^\]]+)\](?:\.([\w.]+))?: (.*)$/.exec(line.trim());
  if (!m) return line;
  const subject = grantSubject(m[1] === 'groups' ? 'group' : 'scope', m[2]!);
  const [, , , field, what] = m as unknown as [string, string, string, string | undefined, string];
  if (!field) {
    if (what === 'added') return $localize`:@@policy.diff.grantAddedShort:${subject}:subject: added`;
    if (what === 'removed') return $localize`:@@policy.diff.grantRemoved:${subject}:subject: removed`;
    return line;
  }
  const list = LIST_LABELS[field];
  if (list) {
    const items = what.split(/\s+/).filter(Boolean);
    if (!items.every((x) => x.startsWith('+') || x.startsWith('-'))) return line;
    const added = items.filter((x) => x.startsWith('+')).map((x) => x.slice(1));
    const removed = items.filter((x) => x.startsWith('-')).map((x) => x.slice(1));
    const parts: string[] = [];
    if (added.length) parts.push($localize`:@@policy.diff.added:added ${added.join(', ')}:items:`);
    if (removed.length) parts.push($localize`:@@policy.diff.removed:removed ${removed.join(', ')}:items:`);
    return `${subject} · ${list}: ${parts.join('; ')}`;
  }
  const q = /^quotas\.(\w+)$/.exec(field);
  const f = q ? QUOTA_FIELDS.find((x) => x.key === q[1]) : undefined;
  if (!f) return line;
  const show = (v: string) => (f.kind === 'count' && /^\d+$/.test(v.trim()) ? formatCount(BigInt(v.trim())) : v.trim());
  const noLimit = $localize`:@@policy.noLimit:no limit`;
  let before: string;
  let after: string;
  const arrow = /^(.*?) -> (.*)$/.exec(what);
  const set = /^set to (.*)$/.exec(what);
  const gone = /^removed \(was (.*)\)$/.exec(what);
  if (arrow) [before, after] = [show(arrow[1]!), show(arrow[2]!)];
  else if (set) [before, after] = [noLimit, show(set[1]!)];
  else if (gone) [before, after] = [show(gone[1]!), noLimit];
  else return line;
  return $localize`:@@policy.diff.was:${subject}:subject: · ${f.label}:field:: was ${before}:before:, now ${after}:after:`;
}

/** How a version came to be, in words. */
export function versionKind(v: PolicyVersion): string {
  switch (v.kind) {
    case PolicyChangeKind.SEED:
      return $localize`:@@history.seed:Imported from the policy file`;
    case PolicyChangeKind.ROLLBACK:
      return $localize`:@@history.rollback:Rolled back to version ${v.restoredVersion}:version:`;
    default:
      return $localize`:@@history.update:Edited`;
  }
}

/** The policy's version history, newest first, with rollback for policy admins. */
@Component({
  selector: 'app-policy-history',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, Icon, ErrorBanner],
  template: `
    @if (error(); as e) {
      <app-error-banner [error]="e" (retry)="load(true)" (dismiss)="error.set(null)" />
    }
    @if (stale()) {
      <div class="notice warn" role="alert" data-testid="history-stale">
        <app-icon name="warning" />
        <span class="grow" i18n="@@history.stale">Someone else changed the policy since this page loaded, so nothing was rolled back. Reload to see the current version.</span>
        <button mat-stroked-button type="button" (click)="reload.emit()" data-testid="history-reload" i18n="@@history.reload">Reload</button>
      </div>
    }
    <div class="table-wrap card">
      <table class="data" data-testid="history-table">
        <caption class="visually-hidden" i18n="@@history.caption">Policy versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col" class="num" i18n="@@history.version">Version</th>
            <th scope="col" i18n="@@history.when">When</th>
            <th scope="col" i18n="@@history.who">Who</th>
            <th scope="col" i18n="@@history.what">What changed</th>
            <th scope="col"><span class="visually-hidden" i18n="@@history.actions">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          @for (v of versions(); track v.version) {
            <tr data-testid="history-row" [attr.data-version]="v.version" [class.current]="v.version === current()">
              <td class="num"><strong>{{ v.version }}</strong>
                @if (v.version === current()) { <br><span class="chip" data-testid="history-current" i18n="@@history.current">in force</span> }
              </td>
              <td>{{ formatTime(v.createTime) }}</td>
              <td data-testid="history-author">{{ v.author || system }}</td>
              <td>
                <div data-testid="history-kind">{{ versionKind(v) }}</div>
                @if (v.comment) { <div class="comment" data-testid="history-comment">“{{ v.comment }}”</div> }
                @if (v.changes.length) {
                  <ul class="changes" data-testid="history-changes">
                    @for (c of v.changes; track $index) { <li>{{ prettyChange(c) }}</li> }
                  </ul>
                }
              </td>
              <td class="actions">
                @if (editable() && v.version !== current()) {
                  @if (confirming() === v.version) {
                    <div class="confirm" role="group" [attr.aria-label]="confirmLabel(v)" data-testid="rollback-confirm" (keydown.escape)="confirming.set(null)">
                      <label class="comment-field"><span i18n="@@history.commentLabel">Comment (optional)</span>
                        <input type="text" maxlength="500" [value]="comment()" (input)="comment.set($any($event.target).value)" data-testid="rollback-comment" />
                      </label>
                      <div class="buttons">
                        <button mat-button type="button" (click)="confirming.set(null)" [disabled]="busy()" i18n="@@history.cancel">Cancel</button>
                        <button mat-flat-button type="button" (click)="rollback(v)" [disabled]="busy()" data-testid="rollback-go" i18n="@@history.confirm">Restore version {{ v.version }}</button>
                      </div>
                    </div>
                  } @else {
                    <button mat-stroked-button type="button" (click)="ask(v)" data-testid="rollback" [attr.aria-label]="rollbackLabel(v)">
                      <app-icon name="undo" /> <span i18n="@@history.rollbackButton">Roll back</span>
                    </button>
                  }
                }
              </td>
            </tr>
          } @empty {
            @if (!loading()) { <tr><td colspan="5" class="muted" i18n="@@history.empty">No versions yet.</td></tr> }
          }
        </tbody>
      </table>
    </div>
    @if (nextToken()) {
      <button mat-button type="button" class="more" (click)="load(false)" [disabled]="loading()" data-testid="history-more" i18n="@@history.more">Older versions</button>
    }
    @if (loading()) { <p class="muted" i18n="@@history.loading">Loading the history…</p> }
  `,
  styles: `
    :host { display: flex; flex-direction: column; gap: 12px; }
    .table-wrap { overflow-x: auto; padding: 0; }
    td { vertical-align: top; }
    tr.current td { background: var(--mat-sys-surface-container); }
    .changes { margin: 6px 0 0; padding-left: 18px; font: var(--mat-sys-body-small); color: var(--mat-sys-on-surface-variant); }
    .comment { font-style: italic; }
    .actions { text-align: right; white-space: nowrap; }
    .confirm { display: flex; flex-direction: column; gap: 8px; align-items: flex-end; white-space: normal; }
    .comment-field { display: flex; flex-direction: column; gap: 4px; font: var(--mat-sys-label-medium); text-align: left; }
    .comment-field input {
      font: var(--mat-sys-body-medium); padding: 6px 10px; border-radius: 8px; color: var(--mat-sys-on-surface); min-width: 220px;
      background: var(--mat-sys-surface-container-highest); border: 1px solid var(--mat-sys-outline-variant);
    }
    .buttons { display: flex; gap: 8px; }
    .notice { display: flex; align-items: center; gap: 12px; padding: 8px 8px 8px 16px; border-radius: 12px; }
    .notice.warn { background: var(--mat-sys-error-container); color: var(--mat-sys-on-error-container); }
    .grow { flex: 1; }
    .more { align-self: center; }
  `,
})
export class PolicyHistory {
  private readonly api = inject(Api);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  /** The version in force. */
  readonly current = input.required<bigint>();
  readonly editable = input(false);
  /** Emitted after a rollback wrote a new version. */
  readonly rolledBack = output<PolicyVersion>();
  /** Emitted when the person asks to reload the policy (after a stale rollback). */
  readonly reload = output<void>();

  protected readonly versions = signal<PolicyVersion[]>([]);
  protected readonly nextToken = signal('');
  protected readonly loading = signal(false);
  protected readonly error = signal<FriendlyError | null>(null);
  protected readonly confirming = signal<bigint | null>(null);
  protected readonly comment = signal('');
  protected readonly busy = signal(false);
  protected readonly stale = signal(false);
  protected readonly formatTime = formatTime;
  protected readonly versionKind = versionKind;
  protected readonly prettyChange = prettyChange;
  protected readonly system = $localize`:@@history.system:Portico (from the file)`;

  constructor() {
    // Reloads whenever the version in force changes (a save, a rollback, a reload).
    effect(() => {
      this.current();
      untracked(() => void this.load(true));
    });
  }

  /** Loads the newest page (fresh) or the next one. */
  async load(fresh: boolean): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      const res = await this.api.admin.listPolicyVersions({ pageSize: 20, pageToken: fresh ? '' : this.nextToken() });
      this.versions.set(fresh ? res.versions : [...this.versions(), ...res.versions]);
      this.nextToken.set(res.nextPageToken);
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected ask(v: PolicyVersion): void {
    this.stale.set(false);
    this.comment.set('');
    this.confirming.set(v.version);
    setTimeout(() => this.host.nativeElement.querySelector<HTMLInputElement>('[data-testid="rollback-comment"]')?.focus());
  }

  protected async rollback(v: PolicyVersion): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      const res = await this.api.admin.rollbackPolicy({ version: v.version, baseVersion: this.current(), comment: this.comment().trim() });
      this.confirming.set(null);
      if (res.version) this.rolledBack.emit(res.version);
    } catch (err) {
      if (ConnectError.from(err).code === Code.FailedPrecondition) {
        this.confirming.set(null);
        this.stale.set(true);
      } else {
        this.error.set(describeError(err));
      }
    } finally {
      this.busy.set(false);
    }
  }

  protected rollbackLabel(v: PolicyVersion): string {
    return $localize`:@@history.rollbackLabel:Roll back to version ${v.version}:version:`;
  }

  protected confirmLabel(v: PolicyVersion): string {
    return $localize`:@@history.confirmLabel:Restore the content of version ${v.version}:version: as a new version`;
  }
}
