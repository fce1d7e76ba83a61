import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { QuotaExceededSchema, QuotaSubject, QuotaUnit, QuotaWindow, RetryAfterSchema } from '@gen/portico/type/v1/quota_pb';
import { describeError, isNetworkFailure } from './errors';

describe('describeError', () => {
  it('explains a quota with its reset time', () => {
    const resets = new Date('2030-01-02T00:00:00Z');
    const err = new ConnectError('quota', Code.ResourceExhausted, undefined, [
      { desc: QuotaExceededSchema, value: { status: { used: 100n, remaining: 0n, resetsAt: timestampFromDate(resets) }, requested: 50n } },
    ]);
    const f = describeError(err);
    expect(f.kind).toBe('quota');
    expect(f.next).toBe('wait');
    expect(f.at?.getTime()).toBe(resets.getTime());
    expect(f.message).toContain('resets at');
  });

  it('names the limit that refused the request', () => {
    const limit = (l: object) =>
      describeError(new ConnectError('quota', Code.ResourceExhausted, undefined, [{ desc: QuotaExceededSchema, value: { status: { limit: l } } }])).message;
    expect(limit({ subject: QuotaSubject.USER, window: QuotaWindow.DAY, unit: QuotaUnit.TOKENS, limit: 1234n })).toBe(
      'You have used your quota of 1,234 tokens per day. Try again later.',
    );
    expect(limit({ subject: QuotaSubject.GROUP, group: 'MLUsers', window: QuotaWindow.MINUTE, unit: QuotaUnit.REQUESTS, limit: 30n })).toBe(
      "You have used your quota of group MLUsers's 30 requests per minute. Try again later.",
    );
    expect(limit({ subject: QuotaSubject.USER, window: QuotaWindow.MONTH, unit: QuotaUnit.COST, limit: 12_500_000_000n })).toBe(
      'You have used your quota of $12.50 per month. Try again later.',
    );
    expect(limit({})).toBe('You have used your quota. Try again later.');
  });

  it('explains throttling with retry', () => {
    const err = new ConnectError('slow down', Code.ResourceExhausted, undefined, [
      { desc: RetryAfterSchema, value: { delayMs: 2000n } },
    ]);
    const f = describeError(err);
    expect(f.kind).toBe('throttled');
    expect(f.next).toBe('retry');
    expect(f.at).toBeInstanceOf(Date);
  });

  it('treats ResourceExhausted without details as throttling', () => {
    expect(describeError(new ConnectError('x', Code.ResourceExhausted)).kind).toBe('throttled');
  });

  it.each([
    [Code.PermissionDenied, 'not-entitled', 'change-model'],
    [Code.Unauthenticated, 'session-expired', 'sign-in'],
    [Code.Unavailable, 'unavailable', 'retry'],
    [Code.Canceled, 'canceled', 'none'],
    [Code.NotFound, 'not-found', 'change-model'],
  ])('maps code %s to %s', (code, kind, next) => {
    const f = describeError(new ConnectError('x', code));
    expect(f.kind).toBe(kind);
    expect(f.next).toBe(next);
  });

  it('says the stream dropped when a started stream fails', () => {
    expect(describeError(new ConnectError('reset', Code.Unknown), { streaming: true }).kind).toBe('stream-dropped');
    expect(describeError(new TypeError('network error'), { streaming: true }).kind).toBe('stream-dropped');
  });

  it('says the server is unreachable when fetch fails', () => {
    const te = new TypeError('Failed to fetch');
    expect(isNetworkFailure(te)).toBe(true);
    expect(describeError(te).kind).toBe('unreachable');
    expect(describeError(ConnectError.from(te)).kind).toBe('unreachable');
  });

  it('says plainly what a failed precondition refused', () => {
    const f = describeError(new ConnectError('this deployment keeps no attachments', Code.FailedPrecondition));
    expect(f).toMatchObject({ kind: 'invalid', title: 'Not possible here', message: 'this deployment keeps no attachments', next: 'none' });
  });

  it('keeps a server message for invalid arguments', () => {
    const f = describeError(new ConnectError('max_tokens above 8192', Code.InvalidArgument));
    expect(f.kind).toBe('invalid');
    expect(f.message).toBe('max_tokens above 8192');
  });
});
