import { InjectionToken, Provider, inject } from '@angular/core';
import { Code, ConnectError, Interceptor, Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { MeteredCalls, meteredInterceptor } from './metered';

/** The header every `/api`, session and logout request carries (the BFF's CSRF check). */
export const CSRF_HEADER = 'X-CSRF';

/** The header CloudFront origin access control needs for a POST to a Lambda Function URL. */
export const CONTENT_SHA256_HEADER = 'x-amz-content-sha256';

/** The one Connect transport of the app. */
export const TRANSPORT = new InjectionToken<Transport>('portico.transport');

/** Called when the BFF answers Unauthenticated; the default sends the browser to sign in. */
export const ON_UNAUTHENTICATED = new InjectionToken<() => void>('portico.onUnauthenticated', {
  providedIn: 'root',
  factory: () => () => redirectToLogin(),
});

const LAST_REDIRECT_KEY = 'portico.loginRedirectAt';

/**
 * Sends the browser to the BFF's sign-in, coming back to where the user was. A second
 * automatic redirect within 30 seconds is skipped (the error banner offers sign-in instead),
 * so a backend that keeps refusing fresh sessions cannot trap the tab in a redirect loop.
 */
export function redirectToLogin(loc: Location = window.location, opts: { force?: boolean } = {}): void {
  try {
    const last = Number(sessionStorage.getItem(LAST_REDIRECT_KEY) ?? 0);
    if (!opts.force && Date.now() - last < 30_000) return;
    sessionStorage.setItem(LAST_REDIRECT_KEY, String(Date.now()));
  } catch {
    // Without storage, redirect anyway.
  }
  loc.assign(loginUrl(loc.pathname + loc.search));
}

/** The BFF sign-in URL that returns to a local path. */
export function loginUrl(returnTo: string): string {
  const local = returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/';
  return `/auth/login?returnTo=${encodeURIComponent(local)}`;
}

/** Hex SHA-256 of bytes (Web Crypto). */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The bytes a fetch body holds; the transport only ever sends bytes or nothing. */
async function bodyBytes(body: BodyInit | null | undefined): Promise<Uint8Array> {
  if (body == null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  throw new Error('unsupported request body');
}

/**
 * Wraps fetch so every request is same-origin with credentials, carries the CSRF header and the
 * SHA-256 of exactly the bytes it sends (the empty body for GET).
 */
export function hashingFetch(next: typeof fetch): typeof fetch {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set(CSRF_HEADER, '1');
    headers.set(CONTENT_SHA256_HEADER, await sha256Hex(await bodyBytes(init.body)));
    return next(input, { ...init, headers, credentials: 'same-origin' });
  };
}

/**
 * The app's one fetch to the BFF outside the Connect transport (session, logout): the global
 * fetch, looked up at call time, behind hashingFetch, so a POST through CloudFront's origin
 * access control carries the body's SHA-256 like every RPC does.
 */
export const bffFetch: typeof fetch = hashingFetch((input, init) => globalThis.fetch(input, init));

/** An interceptor that sets the CSRF header on every call. */
export const csrfInterceptor: Interceptor = (next) => (req) => {
  req.header.set(CSRF_HEADER, '1');
  return next(req);
};

/** An interceptor that calls onUnauthenticated when a call fails with Unauthenticated. */
export function unauthenticatedInterceptor(onUnauthenticated: () => void): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (ConnectError.from(err).code === Code.Unauthenticated) onUnauthenticated();
      throw err;
    }
  };
}

/** Options for createPorticoTransport. */
export interface PorticoTransportOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  onUnauthenticated?: () => void;
  /** Called when a call that may consume quota has ended (see MeteredCalls). */
  onMeteredEnd?: () => void;
}

/** Creates the Connect transport the app talks to the BFF with. */
export function createPorticoTransport(opts: PorticoTransportOptions = {}): Transport {
  return createConnectTransport({
    baseUrl: opts.baseUrl ?? '/api',
    useHttpGet: true,
    fetch: opts.fetch ? hashingFetch(opts.fetch) : bffFetch,
    interceptors: [
      csrfInterceptor,
      unauthenticatedInterceptor(opts.onUnauthenticated ?? (() => {})),
      meteredInterceptor(opts.onMeteredEnd ?? (() => {})),
    ],
  });
}

/** Provides the app's one transport. */
export function provideTransport(): Provider {
  return {
    provide: TRANSPORT,
    useFactory: () => {
      const onUnauthenticated = inject(ON_UNAUTHENTICATED);
      const metered = inject(MeteredCalls);
      return createPorticoTransport({ onUnauthenticated, onMeteredEnd: () => metered.notify() });
    },
  };
}
