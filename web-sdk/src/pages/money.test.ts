import { describe, expect, it } from 'vitest';
import { exponent, formatMinor, parseMajor } from './money';

describe('money', () => {
  it('uses the currency exponent', () => {
    expect(exponent('USD')).toBe(2);
    expect(exponent('JPY')).toBe(0);
    expect(exponent('BHD')).toBe(3);
    expect(formatMinor(4200, 'USD', 'en-US')).toBe('$42.00');
    expect(formatMinor(4200, 'JPY', 'en-US')).toBe('¥4,200');
    expect(formatMinor(1234, 'BHD', 'en-US')).toMatch(/1\.234/);
  });

  it('parses typed amounts and refuses the rest', () => {
    expect(parseMajor('42', 'USD')).toBe(4200);
    expect(parseMajor('42.5', 'USD')).toBe(4250);
    expect(parseMajor(' 0.07 ', 'USD')).toBe(7);
    expect(parseMajor('4200', 'JPY')).toBe(4200);
    for (const bad of ['', '0', '-1', '1.234', 'abc', '1e5', '4111111111111111111']) {
      expect(parseMajor(bad, 'USD'), bad).toBeNull();
    }
  });
});
