import { Routes } from '@angular/router';
import { authGuard, entitledGuard, signedOutGuard, usageAdminGuard } from './core/guards';

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
        path: 'chat',
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
        path: 'keys',
        canActivate: [entitledGuard],
        title: $localize`:@@title.keys:API keys · Portico`,
        loadComponent: () => import('./keys/keys.page').then((m) => m.KeysPage),
      },
      {
        path: 'admin',
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
