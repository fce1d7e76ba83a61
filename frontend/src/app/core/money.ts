/** A Money or a plain copy of one (as kept in browser storage). */
export interface MoneyLike {
  currencyCode: string;
  units: bigint | string | number;
  nanos: number;
}

/** The amount of a Money as a JavaScript number of units (display only, never for sums). */
export function moneyToNumber(m: MoneyLike | undefined): number {
  if (!m) return 0;
  return Number(m.units) + m.nanos / 1e9;
}

/** Formats a Money as a currency string with enough digits for tiny per-request costs. */
export function formatMoney(m: MoneyLike | undefined, locale?: string): string {
  if (!m) return '—';
  const value = moneyToNumber(m);
  const digits = value !== 0 && Math.abs(value) < 0.01 ? 6 : 2;
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: m.currencyCode || 'USD',
      minimumFractionDigits: 2,
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${m.currencyCode}`;
  }
}

/** Formats a count such as a token number with grouping. */
export function formatCount(n: bigint | number | undefined, locale?: string): string {
  return new Intl.NumberFormat(locale).format(Number(n ?? 0));
}
