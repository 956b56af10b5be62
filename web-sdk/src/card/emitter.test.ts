import { describe, expect, it, vi } from 'vitest';
import { Emitter } from './emitter';

describe('Emitter', () => {
  it('delivers to subscribers until they unsubscribe', () => {
    const e = new Emitter<{ change: number; ready: undefined }>();
    const seen: number[] = [];
    const off = e.on('change', (n) => seen.push(n));
    e.emit('change', 1);
    off();
    e.emit('change', 2);
    expect(seen).toEqual([1]);
  });

  it('keeps calling handlers after one throws', () => {
    vi.useFakeTimers();
    const e = new Emitter<{ ready: undefined }>();
    const second = vi.fn();
    e.on('ready', () => { throw new Error('boom'); });
    e.on('ready', second);
    e.emit('ready', undefined);
    expect(second).toHaveBeenCalledOnce();
    expect(() => vi.runAllTimers()).toThrow('boom');
    vi.useRealTimers();
  });
});
