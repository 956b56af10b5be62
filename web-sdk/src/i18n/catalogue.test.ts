import { describe, expect, it } from 'vitest';
import { CATALOGUES, catalogue, formatLocale } from './catalogue';
import { CARD_FRAME_STRINGS, cardFrameStrings } from './card-frame';
import { formatMinor } from '../pages/money';

/** Every string of a catalogue, functions called with sample arguments. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'function') return [String((v as (...a: string[]) => string)('X', 'Y', 'Z'))];
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

describe('catalogues', () => {
  it('pick a language by the primary subtag, English otherwise', () => {
    expect(catalogue('es-US').code).toBe('es');
    expect(catalogue('ES').code).toBe('es');
    expect(catalogue('es_419').code).toBe('es');
    expect(catalogue('en-GB').code).toBe('en');
    expect(catalogue('fr').code).toBe('en');
    expect(catalogue(undefined).code).toBe('en');
  });

  it('have every string, none empty, and are translations', () => {
    const [en, ...others] = CATALOGUES.map((c) => strings(c));
    for (const other of others) {
      expect(other.length).toBe(en!.length);
      expect(other.every((s) => s.trim().length > 0)).toBe(true);
      // Spanish is not English left in place (the code and brand-agnostic placeholders aside).
      const same = other.filter((s, i) => s === en![i]);
      expect(same.length).toBeLessThanOrEqual(2);
    }
  });

  it('give the card iframe the same strings from its own table', () => {
    expect(Object.keys(CARD_FRAME_STRINGS)).toEqual(CATALOGUES.map((c) => c.code));
    for (const c of CATALOGUES) expect(cardFrameStrings(`${c.code}-US`)).toBe(c.cardFrame);
    expect(cardFrameStrings('fr')).toBe(catalogue('en').cardFrame);
  });

  it('format amounts per locale', () => {
    expect(formatMinor(4250, 'USD', formatLocale('en'))).toBe('$42.50');
    expect(formatMinor(4250, 'USD', formatLocale('es-US'))).toBe('$42.50');
    expect(formatMinor(425000, 'EUR', formatLocale('es'))).toMatch(/^4\.?250,00\s€$/);
    expect(formatLocale('not a locale')).toBe('en');
  });
});
