import { Routes, UrlSegment, UrlMatchResult } from '@angular/router';
import { authGuard, entitledGuard, governanceGuard, signedOutGuard, usageAdminGuard } from './core/guards';

/**
 * Matches /chat and /chat/<id> with one route, so moving between a new chat and a kept
 * conversation (or from one conversation to another) keeps the chat page and its stream.
 */
export function chatMatcher(segments: UrlSegment[]): UrlMatchResult | null {
  if (segments[0]?.path !== 'chat' || segments.length > 2) return null;
  if (segments.length === 1) return { consumed: segments };
  return { consumed: segments, posParams: { id: segments[1]! } };
}

export const routes: Routes = [
  {
    path: 'sign-in',
    canActivate: [signedOutGuard],
    title: $localize`:@@title.signIn:Sign in · Portico`,
    loadComponent: () => import('./auth/sign-in.page').then((m) => m.SignInPage),
  },
  {
    path: 'unreachable',
    title: $localize`:@@title.unreachable:Unreachable · Portico`,
    loadComponent: () => import('./errors/unreachable.page').then((m) => m.UnreachablePage),
  },
  {
    path: '',
    canActivate: [authGuard],
    loadComponent: () => import('./shell/shell').then((m) => m.Shell),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'chat' },
      {
        path: 'no-access',
        title: $localize`:@@title.noAccess:No access yet · Portico`,
        loadComponent: () => import('./auth/no-access.page').then((m) => m.NoAccessPage),
      },
      {
        matcher: chatMatcher,
        canActivate: [entitledGuard],
        title: $localize`:@@title.chat:Chat · Portico`,
        loadComponent: () => import('./chat/chat.page').then((m) => m.ChatPage),
      },
      {
        path: 'endpoints',
        canActivate: [entitledGuard],
        title: $localize`:@@title.endpoints:Endpoints · Portico`,
        loadComponent: () => import('./endpoints/endpoints.page').then((m) => m.EndpointsPage),
      },
      {
        path: 'usage',
        title: $localize`:@@title.usage:My usage · Portico`,
        loadComponent: () => import('./usage/my-usage.page').then((m) => m.MyUsagePage),
      },
      {
        path: 'admin/policy',
        canActivate: [governanceGuard],
        canDeactivate: [(page: { canLeave(): boolean }) => page.canLeave()],
        title: $localize`:@@title.policy:Policy · Portico`,
        loadComponent: () => import('./governance/policy.page').then((m) => m.PolicyPage),
      },
      {
        path: 'keys',
        canActivate: [entitledGuard],
        title: $localize`:@@title.keys:API keys · Portico`,
        loadComponent: () => import('./keys/keys.page').then((m) => m.KeysPage),
      },
      {
        path: 'admin',
        pathMatch: 'full',
        canActivate: [usageAdminGuard],
        title: $localize`:@@title.admin:Usage admin · Portico`,
        loadComponent: () => import('./usage/admin-usage.page').then((m) => m.AdminUsagePage),
      },
      {
        path: '**',
        title: $localize`:@@title.notFound:Not found · Portico`,
        loadComponent: () => import('./errors/not-found.page').then((m) => m.NotFoundPage),
      },
    ],
  },
];
