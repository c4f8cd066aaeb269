import { describe, expect, it } from 'vitest';
import { LazyAbort } from './lazy-abort.js';

describe('LazyAbort', () => {
  it('fires a signal that was read before the abort', () => {
    const lazy = new LazyAbort();
    const { signal } = lazy;
    expect(signal.aborted).toBe(false);
    lazy.abort(new Error('stop'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('stop');
  });

  it('gives an already aborted signal when read after the abort, keeping the first reason', () => {
    const lazy = new LazyAbort();
    lazy.abort('first');
    lazy.abort('second');
    expect(lazy.signal.aborted).toBe(true);
    expect(lazy.signal.reason).toBe('first');
    expect(lazy.signal).toBe(lazy.signal);
  });
});
