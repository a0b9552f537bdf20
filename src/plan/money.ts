/**
 * Money is exact: prices and sums are decimal arithmetic on integers, and every figure is
 * rounded to the currency's minor unit (2 decimals for CNY or USD, 0 for JPY), so a total is
 * the sum of the rows shown and never prints as `27.439999999999998`.
 */

/** A decimal number `n / 10^scale`, held exactly. */
interface Decimal {
  n: bigint;
  scale: number;
}

const digitsCache = new Map<string, number>();

/** Decimals of the currency's minor unit (ISO 4217 through Intl); 2 when unknown or unset. */
export function currencyDigits(currency: string | null | undefined): number {
  if (!currency) return 2;
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** The decimal a number was written as: its shortest representation (`0.56`, `1e-7`). */
function decimal(x: number): Decimal {
  if (!Number.isFinite(x)) throw new RangeError(`not an amount of money: ${x}`);
  const [mantissa = '0', exponent = '0'] = String(x).toLowerCase().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const scale = fraction.length - Number(exponent);
  const n = BigInt(`${whole}${fraction}`);
  return scale < 0 ? { n: n * 10n ** BigInt(-scale), scale: 0 } : { n, scale };
}

/** `d` in minor units of `digits` decimals, rounded half away from zero. */
function toMinor(d: Decimal, digits: number): bigint {
  if (d.scale <= digits) return d.n * 10n ** BigInt(digits - d.scale);
  const div = 10n ** BigInt(d.scale - digits);
  const q = d.n / div;
  const r = d.n % div;
  const twice = 2n * (r < 0n ? -r : r);
  if (twice < div) return q;
  return d.n < 0n ? q - 1n : q + 1n;
}

const fromMinor = (minor: bigint, digits: number): number => Number(minor) / 10 ** digits;

/** `value` rounded to the currency's minor unit (2 decimals without a currency). */
export function roundMoney(value: number, currency?: string | null): number {
  const digits = currencyDigits(currency);
  return fromMinor(toMinor(decimal(value), digits), digits);
}

/** What `seconds` cost at `unitPrice` per second, exactly, rounded once to the currency. */
export function costOf(unitPrice: number, seconds: number, currency?: string | null): number {
  const p = decimal(unitPrice);
  const s = decimal(seconds);
  const digits = currencyDigits(currency);
  return fromMinor(toMinor({ n: p.n * s.n, scale: p.scale + s.scale }, digits), digits);
}

/** The exact sum of amounts; null (no price known) when every one of them is null. */
export function sumMoney(values: Iterable<number | null>, currency?: string | null): number | null {
  const digits = currencyDigits(currency);
  let total: bigint | null = null;
  for (const v of values) if (v !== null) total = (total ?? 0n) + toMinor(decimal(v), digits);
  return total === null ? null : fromMinor(total, digits);
}

/** `a + b` exactly; a null side adds nothing, and null + null stays null. */
export function addMoney(
  a: number | null,
  b: number | null,
  currency?: string | null,
): number | null {
  return sumMoney([a, b], currency);
}

/** `12.00 CNY`, `1200 JPY`, or `-` without a price: how every table and log line shows money. */
export function formatMoney(value: number | null, currency: string | null): string {
  if (value === null) return '-';
  const digits = currencyDigits(currency);
  const minor = toMinor(decimal(value), digits);
  const sign = minor < 0n ? '-' : '';
  const abs = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, '0');
  const text = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return `${sign}${text}${currency ? ` ${currency}` : ''}`;
}
