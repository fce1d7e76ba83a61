import type { DescMessage } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { QuotaExceededSchema, QuotaSubject, QuotaUnit, QuotaWindow, RetryAfterSchema, type QuotaLimit } from '@gen/portico/type/v1/quota_pb';
import { formatCount, formatMoney } from './money';

/** What the user can do about an error. */
export type NextStep = 'retry' | 'sign-in' | 'change-model' | 'wait' | 'fix-input' | 'none';

/** An error explained in plain language. */
export interface FriendlyError {
  kind:
    | 'quota'
    | 'throttled'
    | 'not-entitled'
    | 'session-expired'
    | 'stream-dropped'
    | 'unreachable'
    | 'invalid'
    | 'not-found'
    | 'unavailable'
    | 'canceled'
    | 'unknown';
  title: string;
  message: string;
  next: NextStep;
  /** When a quota resets or a retry may succeed. */
  at?: Date;
}

function findDetail<T extends DescMessage>(err: ConnectError, schema: T) {
  const found = err.findDetails(schema);
  return found.length > 0 ? found[0] : undefined;
}

/**
 * The limit that refused a request, for people: "200,000 tokens per day", "the group
 * MLUsers's 50 requests per minute", "$12.50 per month". Empty when the server named none.
 */
export function limitText(l: QuotaLimit | undefined): string {
  if (!l || l.limit <= 0n) return '';
  const amount =
    l.unit === QuotaUnit.COST
      ? formatMoney({ currencyCode: 'USD', units: l.limit / 1_000_000_000n, nanos: Number(l.limit % 1_000_000_000n) })
      : l.unit === QuotaUnit.REQUESTS
        ? $localize`:@@error.quota.requests:${formatCount(l.limit)}:n: requests`
        : $localize`:@@error.quota.tokens:${formatCount(l.limit)}:n: tokens`;
  const window =
    l.window === QuotaWindow.MINUTE
      ? $localize`:@@error.quota.minute:per minute`
      : l.window === QuotaWindow.MONTH
        ? $localize`:@@error.quota.month:per month`
        : $localize`:@@error.quota.day:per day`;
  return l.subject === QuotaSubject.GROUP
    ? $localize`:@@error.quota.group:group ${l.group}:group:'s ${amount}:amount: ${window}:window:`
    : `${amount} ${window}`;
}

function formatTime(d: Date): string {
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * Maps any error from a call to plain language with a next step.
 * `streaming` says the call was a stream that had already started answering.
 */
export function describeError(err: unknown, opts: { streaming?: boolean } = {}): FriendlyError {
  if (isNetworkFailure(err) && opts.streaming) {
    return streamDropped();
  }
  if (isNetworkFailure(err)) {
    return {
      kind: 'unreachable',
      title: $localize`:@@error.unreachable.title:Server unreachable`,
      message: $localize`:@@error.unreachable.message:Portico could not be reached. Check your connection and try again.`,
      next: 'retry',
    };
  }
  const ce = ConnectError.from(err);
  switch (ce.code) {
    case Code.ResourceExhausted: {
      const quota = findDetail(ce, QuotaExceededSchema);
      if (quota) {
        const resets = quota.status?.resetsAt ? timestampDate(quota.status.resetsAt) : undefined;
        const limit = limitText(quota.status?.limit);
        const used = limit
          ? $localize`:@@error.quota.usedLimit:You have used your quota of ${limit}:limit:.`
          : $localize`:@@error.quota.used:You have used your quota.`;
        return {
          kind: 'quota',
          title: $localize`:@@error.quota.title:Quota reached`,
          message: resets
            ? $localize`:@@error.quota.messageAtLimit:${used}:used: It resets at ${formatTime(resets)}:time:.`
            : $localize`:@@error.quota.messageLimit:${used}:used: Try again later.`,
          next: 'wait',
          at: resets,
        };
      }
      const retry = findDetail(ce, RetryAfterSchema);
      const at = retry?.retryAt
        ? timestampDate(retry.retryAt)
        : retry && retry.delayMs > 0n
          ? new Date(Date.now() + Number(retry.delayMs))
          : undefined;
      return {
        kind: 'throttled',
        title: $localize`:@@error.throttled.title:Too many requests`,
        message: at
          ? $localize`:@@error.throttled.messageAt:The service is busy. Try again after ${at.toLocaleTimeString()}:time:.`
          : $localize`:@@error.throttled.message:The service is busy. Wait a moment and try again.`,
        next: 'retry',
        at,
      };
    }
    case Code.PermissionDenied:
      return {
        kind: 'not-entitled',
        title: $localize`:@@error.denied.title:Not available to you`,
        message: $localize`:@@error.denied.message:You are not entitled to use this. Pick another model or ask your administrator for access.`,
        next: 'change-model',
      };
    case Code.Unauthenticated:
      return {
        kind: 'session-expired',
        title: $localize`:@@error.session.title:Session expired`,
        message: $localize`:@@error.session.message:Your session has ended. Sign in again to continue.`,
        next: 'sign-in',
      };
    case Code.Canceled:
      return {
        kind: 'canceled',
        title: $localize`:@@error.canceled.title:Stopped`,
        message: $localize`:@@error.canceled.message:The request was stopped.`,
        next: 'none',
      };
    case Code.InvalidArgument:
      return {
        kind: 'invalid',
        title: $localize`:@@error.invalid.title:Request not accepted`,
        message: ce.rawMessage || $localize`:@@error.invalid.message:The request breaks a limit. Change it and try again.`,
        next: 'fix-input',
      };
    case Code.FailedPrecondition:
      return {
        kind: 'invalid',
        title: $localize`:@@error.precondition.title:Not possible here`,
        message: ce.rawMessage || $localize`:@@error.precondition.message:This cannot be done with the current settings.`,
        next: 'none',
      };
    case Code.NotFound:
      return {
        kind: 'not-found',
        title: $localize`:@@error.notFound.title:Not found`,
        message: $localize`:@@error.notFound.message:This model or endpoint does not exist any more. Pick another one.`,
        next: 'change-model',
      };
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Aborted:
    case Code.Internal:
    case Code.Unknown:
      if (opts.streaming || ce.code === Code.Aborted) return streamDropped();
      return {
        kind: 'unavailable',
        title: $localize`:@@error.unavailable.title:Service unavailable`,
        message: $localize`:@@error.unavailable.message:The service is not ready right now. Try again in a moment.`,
        next: 'retry',
      };
    default:
      return {
        kind: 'unknown',
        title: $localize`:@@error.unknown.title:Something went wrong`,
        message: ce.rawMessage || $localize`:@@error.unknown.message:An unexpected error occurred. Try again.`,
        next: 'retry',
      };
  }
}

/** Whether an error is the browser failing to reach the server at all (fetch's TypeError). */
export function isNetworkFailure(err: unknown): boolean {
  const cause = err instanceof ConnectError ? err.cause : err;
  if (cause instanceof TypeError) return true;
  const text = err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : '';
  return /Failed to fetch|NetworkError|Load failed|network error/i.test(text);
}

function streamDropped(): FriendlyError {
  return {
    kind: 'stream-dropped',
    title: $localize`:@@error.dropped.title:Answer interrupted`,
    message: $localize`:@@error.dropped.message:The connection dropped before the answer was complete. Try again.`,
    next: 'retry',
  };
}
