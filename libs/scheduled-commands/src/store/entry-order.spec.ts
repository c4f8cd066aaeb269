import { describe, expect, it } from 'vitest';
import { byIdAsc, byTimeThenId, claimOrder } from './entry-order.js';

const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);

describe('byIdAsc', () => {
  it('orders ids ascending and leaves equal ids in place', () => {
    expect(['c', 'a', 'b'].map((id) => ({ id })).sort(byIdAsc)).toEqual([
      { id: 'a' },
      { id: 'b' },
      { id: 'c' },
    ]);
    expect(byIdAsc({ id: 'a' }, { id: 'a' })).toBe(0);
  });
});

describe('claimOrder', () => {
  it('sorts by priority descending, then scheduledFor ascending, then id ascending', () => {
    const entries = [
      { id: 'e', priority: 0, scheduledFor: at(0) },
      { id: 'd', priority: 5, scheduledFor: at(20) },
      { id: 'c', priority: 5, scheduledFor: at(10) },
      { id: 'b', priority: 5, scheduledFor: at(10) },
      { id: 'a', priority: -1, scheduledFor: at(-50) },
    ];
    expect(entries.sort(claimOrder).map((e) => e.id)).toEqual(['b', 'c', 'd', 'e', 'a']);
  });
});

describe('byTimeThenId', () => {
  it('sorts by the picked time ascending, then by id', () => {
    const entries = [
      { id: 'c', expiresAt: at(5) },
      { id: 'b', expiresAt: at(1) },
      { id: 'a', expiresAt: at(5) },
    ];
    const sorted = entries.sort(byTimeThenId((e) => e.expiresAt));
    expect(sorted.map((e) => e.id)).toEqual(['b', 'a', 'c']);
  });

  it('counts a missing time as the epoch', () => {
    const entries = [
      { id: 'a', completedAt: at(0) as Date | null },
      { id: 'b', completedAt: null },
    ];
    expect(entries.sort(byTimeThenId((e) => e.completedAt)).map((e) => e.id)).toEqual(['b', 'a']);
  });
});
