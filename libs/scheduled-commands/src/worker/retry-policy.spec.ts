import { describe, expect, it } from 'vitest';
import { retryDelay } from './retry-policy.js';

const base = {
  retryDelayBase: 10_000,
  exponentialBackoff: true,
  maxRetryDelay: 3_600_000,
  retryJitter: 0,
};

describe('retryDelay', () => {
  it('doubles from the base with exponential backoff: 10 s, 20 s, 40 s, 80 s, 160 s', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, base))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000,
    ]);
  });

  it('stays at the base without exponential backoff', () => {
    expect([1, 2, 7].map((n) => retryDelay(n, { ...base, exponentialBackoff: false }))).toEqual([
      10_000, 10_000, 10_000,
    ]);
  });

  it('is capped by maxRetryDelay and never overflows', () => {
    expect(retryDelay(10, base)).toBe(3_600_000);
    expect(retryDelay(10_000, base)).toBe(3_600_000);
    expect(
      Number.isFinite(retryDelay(1e9, { ...base, maxRetryDelay: Number.MAX_SAFE_INTEGER })),
    ).toBe(true);
  });

  it('applies jitter within [d * (1 - jitter), d]', () => {
    const opts = { ...base, retryJitter: 0.5 };
    expect(retryDelay(1, opts, () => 0)).toBe(10_000);
    expect(retryDelay(1, opts, () => 1)).toBe(5_000);
    expect(retryDelay(2, opts, () => 0.5)).toBe(15_000);
  });
});
