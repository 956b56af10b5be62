/** Money in minor units (cents) as people read it, with the currency's own exponent. */

/** Digits after the decimal point for `currency` (ISO 4217: 2 for USD, 0 for JPY, 3 for BHD). */
export function exponent(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `formatMinor(4200, 'USD')` → `$42.00` (in `locale`). Unknown currencies print the code. */
export function formatMinor(amount: number, currency: string, locale?: string): string {
  const digits = exponent(currency);
  const major = amount / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${currency}`;
  }
}

/** Parses what an agent typed (`42`, `42.5`, `42.50`) into minor units; `null` if it is not an amount. */
export function parseMajor(text: string, currency: string): number | null {
  const digits = exponent(currency);
  const m = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  const minor = Number(m[1]) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
  return minor > 0 && Number.isSafeInteger(minor) ? minor : null;
}
