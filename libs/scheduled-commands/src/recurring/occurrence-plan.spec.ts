import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { FireTimes } from './fire-times.js';
import { planOccurrences, type PlanInput } from './occurrence-plan.js';

const everySecond = new FireTimes({
  cron: '* * * * * *',
  every: null,
  timezone: 'UTC',
  startAt: null,
  endAt: null,
});
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

function plan(clock: ManualClock, overrides: Partial<PlanInput>) {
  return planOccurrences({
    fireTimes: everySecond,
    misfire: 'once',
    maxCatchUp: 100,
    overlap: true,
    nextFireAt: null,
    now: clock.now(),
    horizonMs: 2_000,
    graceMs: 1_000,
    hasLiveOccurrence: false,
    ...overrides,
  });
}

describe('planOccurrences', () => {
  it('materialises the fire times within the horizon ahead of time', () => {
    const clock = new ManualClock(at(0.5));
    const p = plan(clock, {});
    expect(iso(p.onTime)).toEqual(iso([at(1), at(2)]));
    expect(p.nextFireAt).toEqual(at(3));
    expect(p.missed).toBe(0);
  });

  it('after a downtime of k fire times: skip runs none, once the latest, all the latest maxCatchUp in order', () => {
    const clock = new ManualClock(at(10.2)); // fire times 1..9 are more than 1 s late
    const base = { nextFireAt: at(1), horizonMs: 0 };
    const skip = plan(clock, { ...base, misfire: 'skip' });
    expect(skip.missed).toBe(9);
    expect(skip.catchUp).toEqual([]);
    expect(iso(skip.onTime)).toEqual(iso([at(10)])); // on time (within the grace), not missed
    expect(plan(clock, { ...base, misfire: 'once' }).catchUp).toEqual([at(9)]);
    expect(iso(plan(clock, { ...base, misfire: 'all', maxCatchUp: 100 }).catchUp)).toEqual(
      iso([1, 2, 3, 4, 5, 6, 7, 8, 9].map(at)),
    );
    expect(iso(plan(clock, { ...base, misfire: 'all', maxCatchUp: 3 }).catchUp)).toEqual(
      iso([at(7), at(8), at(9)]),
    );
  });

  it('overlap: false keeps one occurrence live: a future fire time waits, a due one is skipped', () => {
    const clock = new ManualClock(at(0.5));
    const waiting = plan(clock, { overlap: false, nextFireAt: at(1), hasLiveOccurrence: true });
    expect(waiting.onTime).toEqual([]);
    expect(waiting.nextFireAt).toEqual(at(1));
    clock.set(at(1.2));
    const skipped = plan(clock, {
      overlap: false,
      nextFireAt: at(1),
      hasLiveOccurrence: true,
      horizonMs: 0,
    });
    expect(skipped.overlapSkipped).toEqual([at(1)]);
    expect(skipped.nextFireAt).toEqual(at(2));
    const free = plan(clock, { overlap: false, nextFireAt: at(2) });
    expect(free.onTime).toEqual([at(2)]); // one ahead, the next waits for it
    expect(free.nextFireAt).toEqual(at(3));
  });

  it('a new schedule starts after now; an ended one has no next fire time', () => {
    const clock = new ManualClock(at(5.5));
    expect(plan(clock, { horizonMs: 0 }).nextFireAt).toEqual(at(6));
    const ended = new FireTimes({
      cron: '* * * * * *',
      every: null,
      timezone: 'UTC',
      startAt: null,
      endAt: at(3),
    });
    expect(plan(clock, { fireTimes: ended })).toMatchObject({ onTime: [], nextFireAt: null });
  });
});
