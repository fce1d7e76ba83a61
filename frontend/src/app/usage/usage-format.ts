import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { QuotaSubject, QuotaUnit, QuotaWindow, type QuotaLimit } from '@gen/portico/type/v1/quota_pb';

/** Describes a quota limit for people, e.g. "Tokens per day (group MLUsers)". */
export function quotaLabel(l: QuotaLimit | undefined): string {
  if (!l) return '';
  const unit = l.unit === QuotaUnit.REQUESTS ? $localize`:@@quota.requests:Requests` : $localize`:@@quota.tokens:Tokens`;
  const window =
    l.window === QuotaWindow.MINUTE
      ? $localize`:@@quota.minute:per minute`
      : l.window === QuotaWindow.MONTH
        ? $localize`:@@quota.month:per month`
        : $localize`:@@quota.day:per day`;
  const who =
    l.subject === QuotaSubject.GROUP
      ? $localize`:@@quota.group:shared by group ${l.group}:group:`
      : $localize`:@@quota.user:for you`;
  return `${unit} ${window} (${who})`;
}

/** A timestamp as a local date and time. */
export function formatTime(t: Timestamp | undefined): string {
  if (!t) return '—';
  return timestampDate(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Today as YYYY-MM-DD (UTC, as the ledger keeps days). */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Quotes a CSV cell (RFC 4180), defusing spreadsheet formulas. */
export function csvCell(v: string | number | bigint): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Builds CSV text from a header and rows. */
export function toCsv(header: string[], rows: (string | number | bigint)[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
