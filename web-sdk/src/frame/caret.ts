/**
 * Keeping the caret in place when the iframe reformats an input (`4111 1111 ...`,
 * `MM / YY`): the caret stays after the same number of significant characters.
 */

/** Significant characters (letters and digits) before `caret` in `value`. */
export function significantBefore(value: string, caret: number): number {
  let n = 0;
  for (let i = 0; i < Math.min(caret, value.length); i++) if (/[0-9A-Za-z]/.test(value[i] ?? '')) n++;
  return n;
}

/** The caret position in `formatted` after `count` significant characters. */
export function caretAfter(formatted: string, count: number): number {
  if (count <= 0) return 0;
  let seen = 0;
  for (let i = 0; i < formatted.length; i++) {
    if (/[0-9A-Za-z]/.test(formatted[i] ?? '')) seen++;
    if (seen === count) {
      // Step over a separator that directly follows, as when typing forward.
      let j = i + 1;
      while (j < formatted.length && /[ /]/.test(formatted[j] ?? '')) j++;
      return j === formatted.length ? j : i + 1;
    }
  }
  return formatted.length;
}
