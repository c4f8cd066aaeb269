import { describe, expect, it } from 'vitest';
import { InvalidRecurringScheduleError } from '../errors/index.js';
import { FireTimes } from './fire-times.js';

const spec = (cron: string, timezone = 'UTC') =>
  new FireTimes({ cron, every: null, timezone, startAt: null, endAt: null });

/** The fire times strictly after `from` up to `to`. */
function between(times: FireTimes, from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = times.next(new Date(from)); t && t <= new Date(to); t = times.next(t)) {
    out.push(t.toISOString());
  }
  return out;
}

describe('FireTimes', () => {
  it('reads 6-field expressions with seconds and 5-field ones', () => {
    expect(
      between(spec('* * * * * *'), '2026-01-01T00:00:00.400Z', '2026-01-01T00:00:03Z'),
    ).toEqual(['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z']);
    expect(spec('*/15 * * * *').next(new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-01-01T00:15:00.000Z',
    );
  });

  it('reads the expression in its time zone', () => {
    expect(
      spec('0 9 * * *', 'Europe/Paris').next(new Date('2026-01-10T00:00:00Z'))?.toISOString(),
    ).toBe('2026-01-10T08:00:00.000Z');
  });

  it('fires every N ms aligned on startAt, within startAt..endAt', () => {
    const times = new FireTimes({
      cron: null,
      every: 10_000,
      timezone: 'UTC',
      startAt: new Date('2026-01-01T00:00:05Z'),
      endAt: new Date('2026-01-01T00:00:30Z'),
    });
    expect(between(times, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')).toEqual([
      '2026-01-01T00:00:05.000Z',
      '2026-01-01T00:00:15.000Z',
      '2026-01-01T00:00:25.000Z',
    ]);
  });

  it('refuses a bad expression with a typed error', () => {
    expect(() => spec('61 * * * *')).toThrow(InvalidRecurringScheduleError);
    expect(() => spec('* * * *')).toThrow(InvalidRecurringScheduleError);
    expect(() => spec('* * * * * * *')).toThrow(InvalidRecurringScheduleError);
  });

  describe('DST: a time in the gap and a time in the overlap each run once', () => {
    it('Europe/Paris spring forward: 02:30 runs once, at 03:00 local', () => {
      expect(
        between(spec('30 2 * * *', 'Europe/Paris'), '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z'),
      ).toEqual([
        '2026-03-29T01:00:00.000Z', // 03:00 CEST, right after the gap
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('Europe/Paris fall back: 02:30 runs once, at its first occurrence', () => {
      expect(
        between(spec('30 2 * * *', 'Europe/Paris'), '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z'),
      ).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST (the first 02:30)
        '2026-10-26T01:30:00.000Z',
      ]);
    });

    it('America/New_York spring forward: 02:30 runs once, at 03:00 local', () => {
      expect(
        between(
          spec('30 2 * * *', 'America/New_York'),
          '2026-03-07T12:00:00Z',
          '2026-03-09T12:00:00Z',
        ),
      ).toEqual([
        '2026-03-08T07:00:00.000Z', // 03:00 EDT
        '2026-03-09T06:30:00.000Z',
      ]);
    });

    it('America/New_York fall back: 01:30 runs once, and a repeating expression does not run the repeated hour twice', () => {
      expect(
        between(
          spec('30 1 * * *', 'America/New_York'),
          '2026-10-31T12:00:00Z',
          '2026-11-02T12:00:00Z',
        ),
      ).toEqual([
        '2026-11-01T05:30:00.000Z', // 01:30 EDT, not 01:30 EST an hour later
        '2026-11-02T06:30:00.000Z',
      ]);
      expect(
        between(
          spec('0 */30 * * * *', 'America/New_York'),
          '2026-11-01T04:50:00Z',
          '2026-11-01T07:40:00Z',
        ),
      ).toEqual([
        '2026-11-01T05:00:00.000Z', // 01:00 EDT
        '2026-11-01T05:30:00.000Z', // 01:30 EDT
        '2026-11-01T07:00:00.000Z', // 02:00 EST (01:00 and 01:30 EST are repeats)
        '2026-11-01T07:30:00.000Z',
      ]);
    });

    it('a repeating expression skips times in the gap (they do not exist)', () => {
      expect(
        between(
          spec('0 0 * * * *', 'Europe/Paris'),
          '2026-03-28T23:30:00Z',
          '2026-03-29T02:30:00Z',
        ),
      ).toEqual([
        '2026-03-29T00:00:00.000Z', // 01:00 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 does not exist)
        '2026-03-29T02:00:00.000Z',
      ]);
    });
  });
});
