import { Injectable, computed, inject, signal } from '@angular/core';
import type { GetMeResponse } from '@gen/portico/identity/v1/identity_pb';
import { Api } from './api';
import { bffFetch } from './transport';

/** The signed-in user as the BFF's `/auth/session` describes it. */
export interface SessionUser {
  subject: string;
  username: string;
  email: string;
  name: string;
  groups: string[];
}

/** The BFF session: who is signed in and until when. */
export interface Session {
  user: SessionUser;
  expiresAt: string;
}

/** Where the app stands with the BFF session. */
export type SessionState = 'unknown' | 'signed-in' | 'signed-out' | 'unreachable';

/** Loads and holds the BFF session and the caller's entitlements (GetMe). */
@Injectable({ providedIn: 'root' })
export class SessionService {
  private readonly api = inject(Api);
  private loading?: Promise<SessionState>;

  readonly state = signal<SessionState>('unknown');
  readonly session = signal<Session | null>(null);
  readonly me = signal<GetMeResponse | null>(null);

  readonly user = computed(() => this.session()?.user ?? null);
  readonly displayName = computed(() => {
    const me = this.me()?.principal;
    const u = this.user();
    return me?.displayName || u?.name || me?.username || u?.username || '';
  });
  readonly groups = computed(() => this.me()?.principal?.groups ?? this.user()?.groups ?? []);
  readonly modelIds = computed(() => this.me()?.entitlements?.modelIds ?? []);
  readonly endpointNames = computed(() => this.me()?.entitlements?.endpointNames ?? []);
  readonly usageAdmin = computed(() => this.me()?.entitlements?.usageAdmin ?? false);
  /** Whether the caller may edit the policy (a member of a policyAdmins group). */
  readonly policyAdmin = computed(() => this.me()?.policyAdmin ?? false);
  /** Whether the caller may read the policy and who is near a limit (usage or policy admins). */
  readonly governance = computed(() => this.usageAdmin() || this.policyAdmin());
  readonly hasAccess = computed(() => this.modelIds().length > 0 || this.endpointNames().length > 0);

  /** Loads the session and GetMe once; later calls share the result. */
  load(): Promise<SessionState> {
    this.loading ??= this.fetchState().then((s) => {
      this.state.set(s);
      if (s === 'unreachable') this.loading = undefined;
      return s;
    });
    return this.loading;
  }

  private async fetchState(): Promise<SessionState> {
    let res: Response;
    try {
      res = await bffFetch('/auth/session', { headers: { Accept: 'application/json' } });
    } catch {
      return 'unreachable';
    }
    if (res.status === 401) return 'signed-out';
    if (!res.ok) return 'unreachable';
    const session = (await res.json()) as Session;
    this.session.set(session);
    try {
      this.me.set(await this.api.identity.getMe({}));
    } catch {
      return 'unreachable';
    }
    return 'signed-in';
  }

  /** Ends the session at the BFF and sends the browser to the identity provider's logout. */
  async signOut(): Promise<void> {
    let target = '/sign-in';
    try {
      const res = await bffFetch('/auth/logout', { method: 'POST', headers: { Accept: 'application/json' } });
      if (res.ok) {
        const body = (await res.json()) as { logoutUrl?: string };
        if (body.logoutUrl) target = body.logoutUrl;
      }
    } catch {
      // Fall through to the local sign-in page.
    }
    sessionStorage.clear();
    window.location.assign(target);
  }
}
