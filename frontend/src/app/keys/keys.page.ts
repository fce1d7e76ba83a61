import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { ApiKey, ListApiKeysResponse } from '@gen/portico/apikey/v1/apikey_pb';
import { Api } from '../core/api';
import { describeError, type FriendlyError } from '../core/errors';
import { Icon } from '../core/icon';
import { SessionService } from '../core/session';
import { ErrorBanner } from '../errors/error-banner';
import { formatTime } from '../usage/usage-format';
import { examples } from './examples';

/** A key's state for its list: active, revoked or expired. */
export function keyStatus(k: ApiKey, now: Date): 'active' | 'revoked' | 'expired' {
  if (k.revokeTime) return 'revoked';
  if (k.expireTime && timestampDate(k.expireTime) <= now) return 'expired';
  return 'active';
}

/** Personal API keys: create (the secret shown once), list, revoke; everyone's for administrators. */
@Component({
  selector: 'app-keys-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [FormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ErrorBanner, Icon],
  templateUrl: './keys.page.html',
  styleUrl: './keys.page.scss',
})
export class KeysPage {
  private readonly api = inject(Api);
  protected readonly session = inject(SessionService);
  protected readonly list = signal<ListApiKeysResponse | null>(null);
  protected readonly all = signal<ApiKey[] | null>(null);
  protected readonly loading = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<FriendlyError | null>(null);
  /** The secret just created, shown once until dismissed. */
  protected readonly created = signal<{ secret: string; key: ApiKey } | null>(null);
  protected readonly copied = signal(false);

  protected name = '';
  protected expireDays: number | null = null;
  protected models: string[] = [];
  protected readonly formatTime = formatTime;
  protected readonly now = signal(new Date());

  /** The examples, for the first model of the newest key (or of the caller). */
  protected readonly examples = computed(() => {
    const l = this.list();
    const key = this.created()?.key ?? l?.keys.find((k) => keyStatus(k, this.now()) === 'active');
    const model = key?.modelIds[0] ?? this.session.modelIds()[0] ?? 'amazon.nova-lite-v1:0';
    return examples(l?.apiBaseUrl ?? '', model);
  });

  constructor() {
    void this.load();
  }

  protected status(k: ApiKey): string {
    return keyStatus(k, this.now());
  }

  protected async load(): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      const l = await this.api.keys.listApiKeys({});
      this.now.set(new Date());
      this.list.set(l);
      if (l.admin) this.all.set((await this.api.keys.listAllApiKeys({})).keys);
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected async create(): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      const res = await this.api.keys.createApiKey({ name: this.name.trim(), expireDays: this.expireDays ?? 0, modelIds: this.models });
      if (res.key) this.created.set({ secret: res.secret, key: res.key });
      this.copied.set(false);
      this.name = '';
      this.models = [];
      this.expireDays = null;
      await this.load();
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.busy.set(false);
    }
  }

  protected async copy(secret: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(secret);
      this.copied.set(true);
    } catch {
      this.copied.set(false); // the secret stays selectable on the page
    }
  }

  protected async revoke(k: ApiKey, asAdmin: boolean): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      if (asAdmin) await this.api.keys.adminRevokeApiKey({ owner: k.owner, id: k.id });
      else await this.api.keys.revokeApiKey({ id: k.id });
      await this.load();
    } catch (err) {
      this.error.set(describeError(err));
    } finally {
      this.busy.set(false);
    }
  }
}
