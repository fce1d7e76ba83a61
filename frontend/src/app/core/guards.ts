import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { SessionService } from './session';

/** Lets signed-in users through; others go to the sign-in page and come back afterwards. */
export const authGuard: CanActivateFn = async (_route, state) => {
  const session = inject(SessionService);
  const router = inject(Router);
  const s = await session.load();
  if (s === 'signed-in') return true;
  if (s === 'unreachable') return router.createUrlTree(['/unreachable'], { queryParams: { returnTo: state.url } });
  return router.createUrlTree(['/sign-in'], { queryParams: { returnTo: state.url } });
};

/** Lets users with at least one model or endpoint through; others see the no-access page. */
export const entitledGuard: CanActivateFn = () => {
  const session = inject(SessionService);
  return session.hasAccess() || inject(Router).createUrlTree(['/no-access']);
};

/** Lets usage administrators through. */
export const usageAdminGuard: CanActivateFn = () => {
  const session = inject(SessionService);
  return session.usageAdmin() || inject(Router).createUrlTree(['/usage']);
};

/** Sends users who already have a session away from the sign-in page. */
export const signedOutGuard: CanActivateFn = async () => {
  const s = await inject(SessionService).load();
  return s !== 'signed-in' || inject(Router).createUrlTree(['/']);
};

/** Lets usage and policy administrators through (the policy page and the near-limit list). */
export const governanceGuard: CanActivateFn = () => {
  const session = inject(SessionService);
  return session.governance() || inject(Router).createUrlTree(['/usage']);
};
