import { timestampDate } from '@bufbuild/protobuf/wkt';
import { QuotaSubject, QuotaUnit, QuotaWindow, type QuotaAlert as QuotaAlertProto, type QuotaStatus } from '@gen/portico/type/v1/quota_pb';
import { formatCount, formatMoney } from '../core/money';

/**
 * The quota alerts a person sees: when their consumption passes 80 % or 100 % of a quota or a
 * cost budget, a banner says how much is left and when the window resets. Each threshold of
 * each limit is dismissed on its own and only for its window: the 100 % alert shows even after
 * the 80 % one was dismissed, and a new window shows both again.
 */

/** The thresholds that raise an alert, in percent of the limit. */
export type Threshold = 80 | 100;

/** One limit's state in its current window, whatever it counts. */
export interface Meter {
  /** What identifies the limit across refreshes (subject, group, window, unit). */
  key: string;
  /** What the limit counts and for whom, for people ("Your tokens per day"). */
  label: string;
  /** Consumed and settled in the current window, in the limit's unit (micro-units for money). */
  used: bigint;
  /** The limit, in the same unit. */
  limit: bigint;
  /** What may still be consumed; when absent, limit minus used (never below zero). */
  remaining?: bigint;
  /** When the window ends. */
  resetsAt?: Date;
  /** Formats an amount of the unit ("12,000 tokens", "$3.50"). */
  format: (n: bigint) => string;
  /** The threshold the server says was reached, when it says; else computed from used and limit. */
  threshold?: Threshold;
}

/** An alert to show: a meter at or past a threshold. */
export interface QuotaAlert {
  /** The meter's key plus threshold plus window: what dismissing it records. */
  id: string;
  meter: Meter;
  threshold: Threshold;
  /** The share used, in whole percent, rounded down (never shown above 100). */
  percent: number;
  /** What is left, formatted. */
  left: string;
}

/** The highest threshold a consumption has reached, or null below 80 %. Exact (integers). */
export function thresholdOf(used: bigint, limit: bigint): Threshold | null {
  if (limit <= 0n) return null;
  if (used >= limit) return 100;
  if (used * 100n >= limit * 80n) return 80;
  return null;
}

/** The id an alert is dismissed under: the limit, the threshold and the window it belongs to. */
export function alertId(m: Meter, t: Threshold): string {
  return `${m.key}@${t}@${m.resetsAt ? m.resetsAt.toISOString() : ''}`;
}

/**
 * The alerts to show for meters, most severe first (100 % before 80 %, then by share used),
 * leaving out those dismissed. A meter raises at most one alert: its highest threshold.
 */
export function quotaAlerts(meters: readonly Meter[], dismissed: ReadonlySet<string>): QuotaAlert[] {
  const out: QuotaAlert[] = [];
  for (const m of meters) {
    const t = m.threshold ?? thresholdOf(m.used, m.limit);
    if (t === null || m.limit <= 0n) continue;
    const id = alertId(m, t);
    if (dismissed.has(id)) continue;
    const left = m.remaining ?? (m.limit > m.used ? m.limit - m.used : 0n);
    const percent = Number((m.used * 100n) / m.limit);
    out.push({ id, meter: m, threshold: t, percent: Math.min(100, percent), left: m.format(left < 0n ? 0n : left) });
  }
  return out.sort((a, b) => b.threshold - a.threshold || b.percent - a.percent || a.meter.label.localeCompare(b.meter.label));
}

/** The key of a QuotaStatus's limit. */
export function quotaKey(s: QuotaStatus): string {
  const l = s.limit;
  return `${QuotaSubject[l?.subject ?? 0]}/${l?.group ?? ''}/${QuotaWindow[l?.window ?? 0]}/${QuotaUnit[l?.unit ?? 0]}`;
}

/** What a quota counts and for whom, in words for the banner (or, forAdmin, for an admin's list). */
export function meterLabel(s: QuotaStatus, forAdmin = false): string {
  const l = s.limit;
  const unit =
    l?.unit === QuotaUnit.REQUESTS
      ? $localize`:@@alert.requests:requests`
      : l?.unit === QuotaUnit.COST
        ? $localize`:@@alert.budget:budget`
        : $localize`:@@alert.tokens:tokens`;
  const window =
    l?.window === QuotaWindow.MINUTE
      ? $localize`:@@alert.minute:per minute`
      : l?.window === QuotaWindow.MONTH
        ? $localize`:@@alert.month:per month`
        : $localize`:@@alert.day:per day`;
  if (forAdmin) {
    return l?.subject === QuotaSubject.GROUP
      ? $localize`:@@alert.adminGroupLimit:Group ${unit}:unit: ${window}:window:`
      : $localize`:@@alert.adminUserLimit:Personal ${unit}:unit: ${window}:window:`;
  }
  return l?.subject === QuotaSubject.GROUP
    ? $localize`:@@alert.groupLimit:Group ${l.group}:group:'s ${unit}:unit: ${window}:window:`
    : $localize`:@@alert.userLimit:Your ${unit}:unit: ${window}:window:`;
}

/** The price table's currency (the catalog accepts USD only). */
const CURRENCY = 'USD';

/** An amount in nanos of the price table's currency, for people. */
export function formatNanos(n: bigint): string {
  return formatMoney({ currencyCode: CURRENCY, units: n / 1_000_000_000n, nanos: Number(n % 1_000_000_000n) });
}

/** A meter for a quota or budget as GetUsage (or an alert) reports it. */
export function meterOfQuota(s: QuotaStatus): Meter {
  const requests = s.limit?.unit === QuotaUnit.REQUESTS;
  if (s.limit?.unit === QuotaUnit.COST) {
    return {
      key: quotaKey(s),
      label: meterLabel(s),
      used: s.used,
      limit: s.limit.limit,
      remaining: s.remaining,
      resetsAt: s.resetsAt ? timestampDate(s.resetsAt) : undefined,
      format: formatNanos,
    };
  }
  return {
    key: quotaKey(s),
    label: meterLabel(s),
    used: s.used,
    limit: s.limit?.limit ?? 0n,
    remaining: s.remaining,
    resetsAt: s.resetsAt ? timestampDate(s.resetsAt) : undefined,
    format: (n) =>
      requests
        ? n === 1n
          ? $localize`:@@alert.oneRequest:1 request`
          : $localize`:@@alert.nRequests:${formatCount(n)}:n: requests`
        : n === 1n
          ? $localize`:@@alert.oneToken:1 token`
          : $localize`:@@alert.nTokens:${formatCount(n)}:n: tokens`,
  };
}

/** A meter for an alert as GetMe reports it, at the threshold the server says was reached. */
export function meterOfAlert(a: QuotaAlertProto): Meter {
  const m = meterOfQuota(a.status ?? ({} as QuotaStatus));
  if (a.thresholdPercent >= 100) m.threshold = 100;
  else if (a.thresholdPercent >= 80) m.threshold = 80;
  return m;
}

/** Where dismissed alerts are remembered (this browser, per user). */
export const DISMISSED_KEY = 'portico.alerts.dismissed.v1';

/** A dismissed alert and until when remembering it matters (its window's end). */
interface DismissedEntry {
  id: string;
  until: number;
}

/** Reads the dismissed alert ids of user, dropping those whose window has ended. */
export function loadDismissed(storage: Pick<Storage, 'getItem'>, user: string, now = Date.now()): Set<string> {
  try {
    const all = JSON.parse(storage.getItem(DISMISSED_KEY) ?? '{}') as Record<string, DismissedEntry[]>;
    const mine = Array.isArray(all[user]) ? all[user] : [];
    return new Set(mine.filter((e) => typeof e?.id === 'string' && (e.until === 0 || e.until > now)).map((e) => e.id));
  } catch {
    return new Set();
  }
}

/** Remembers that user dismissed alert a, until its window ends; forgets ended windows. */
export function saveDismissed(storage: Pick<Storage, 'getItem' | 'setItem'>, user: string, a: QuotaAlert, now = Date.now()): void {
  try {
    let all: Record<string, DismissedEntry[]> = {};
    try {
      all = JSON.parse(storage.getItem(DISMISSED_KEY) ?? '{}') as Record<string, DismissedEntry[]>;
      if (typeof all !== 'object' || all === null || Array.isArray(all)) all = {};
    } catch {
      all = {};
    }
    const kept = (Array.isArray(all[user]) ? all[user] : []).filter((e) => e.id !== a.id && (e.until === 0 || e.until > now));
    kept.push({ id: a.id, until: a.meter.resetsAt?.getTime() ?? 0 });
    all[user] = kept.slice(-100);
    storage.setItem(DISMISSED_KEY, JSON.stringify(all));
  } catch {
    // Without storage the dismissal lasts as long as the page.
  }
}
