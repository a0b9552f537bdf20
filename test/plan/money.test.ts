import { describe, expect, it } from 'vitest';
import { costOf, currencyDigits, formatMoney, roundMoney, sumMoney } from '../../src/plan/money.js';

describe('money', () => {
  it('knows the minor unit of a currency; 2 decimals when unknown', () => {
    expect(currencyDigits('USD')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('KWD')).toBe(3);
    expect(currencyDigits(null)).toBe(2);
    expect(currencyDigits('XYZ1')).toBe(2);
  });

  it('adds exactly where floating point does not', () => {
    expect(
      sumMoney(
        Array.from({ length: 49 }, () => 0.56),
        'USD',
      ),
    ).toBe(27.44);
    expect(sumMoney([0.1, 0.2], 'CNY')).toBe(0.3);
    expect(sumMoney([null, null], 'CNY')).toBeNull();
    expect(sumMoney([null, 1.5], 'CNY')).toBe(1.5);
  });

  it('prices a duration exactly, rounding once, half away from zero', () => {
    expect(costOf(0.123, 5, 'USD')).toBe(0.62);
    expect(costOf(1.005, 1, 'USD')).toBe(1.01);
    expect(costOf(0.56, 7, 'USD')).toBe(3.92);
    expect(costOf(1e-7, 1e7, 'USD')).toBe(1);
    expect(costOf(12.5, 3, 'JPY')).toBe(38);
    expect(roundMoney(-0.125, 'USD')).toBe(-0.13);
    expect(roundMoney(27.439999999999998)).toBe(27.44);
  });

  it('prints to the currency precision', () => {
    expect(formatMoney(27.439999999999998, 'USD')).toBe('27.44 USD');
    expect(formatMoney(0.5, null)).toBe('0.50');
    expect(formatMoney(1200, 'JPY')).toBe('1200 JPY');
    expect(formatMoney(0.0005, 'KWD')).toBe('0.001 KWD');
    expect(formatMoney(-3, 'USD')).toBe('-3.00 USD');
    expect(formatMoney(null, 'USD')).toBe('-');
  });
});
