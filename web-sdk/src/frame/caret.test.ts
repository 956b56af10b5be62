import { describe, expect, it } from 'vitest';
import { caretAfter, significantBefore } from './caret';

describe('caret', () => {
  it('stays after the same digit when groups are re-spaced', () => {
    const typed = '41111';
    const count = significantBefore(typed, 5);
    expect(count).toBe(5);
    expect(caretAfter('4111 1', count)).toBe(6);
    // Editing in the middle: caret after the 2nd digit of "4111 1111".
    expect(caretAfter('4111 1111', significantBefore('41x11 1111', 2))).toBe(2);
  });

  it('moves past a trailing separator when typing forward', () => {
    expect(caretAfter('12 / ', 2)).toBe(5);
    expect(caretAfter('12 / 3', 2)).toBe(2);
    expect(caretAfter('', 0)).toBe(0);
    expect(caretAfter('12', 9)).toBe(2);
  });
});
