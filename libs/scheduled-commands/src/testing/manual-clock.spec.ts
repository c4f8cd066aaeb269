import { describe, expect, it } from 'vitest';
import { Clock } from '../clock.js';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('stands still until it is moved', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00.000Z'));
    expect(clock).toBeInstanceOf(Clock);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('advances by milliseconds and jumps to a date, forwards or backwards', () => {
    const clock = new ManualClock(0);
    expect(clock.advance(1_500).getTime()).toBe(1_500);
    expect(clock.now().getTime()).toBe(1_500);
    clock.set(new Date(100));
    expect(clock.now().getTime()).toBe(100);
    clock.set(42);
    expect(clock.now().getTime()).toBe(42);
  });

  it('starts at the wall-clock time by default', () => {
    const before = Date.now();
    const at = new ManualClock().now().getTime();
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it('hands out copies of its time', () => {
    const clock = new ManualClock(1_000);
    clock.now().setTime(0);
    expect(clock.now().getTime()).toBe(1_000);
  });

  it('rejects invalid dates and negative or non-finite steps', () => {
    expect(() => new ManualClock(new Date(Number.NaN))).toThrow(RangeError);
    const clock = new ManualClock(0);
    expect(() => clock.set(new Date('nope'))).toThrow(RangeError);
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => clock.advance(ms)).toThrow(RangeError);
    }
    expect(clock.now().getTime()).toBe(0);
  });
});
