import { describe, expect, it } from 'vitest';
import { InvalidRecurringScheduleError } from '../errors/index.js';
import { assertRecurringName, normalizeRecurringOptions } from './recurring-options.js';
import { invalidField as field } from '../errors/invalid-field.spec-support.js';

describe('normalizeRecurringOptions', () => {
  it('applies the defaults', () => {
    expect(normalizeRecurringOptions({ cron: '0 * * * *' }, 3)).toEqual({
      cron: '0 * * * *',
      every: null,
      timezone: 'UTC',
      misfire: 'once',
      maxCatchUp: 100,
      overlap: false,
      startAt: null,
      endAt: null,
      priority: 0,
      maxRetries: 3,
      expiresAfter: null,
      correlationId: null,
      metadata: null,
    });
  });

  it('refuses bad input with typed errors naming the field', () => {
    const bad = (o: unknown) => field(() => normalizeRecurringOptions(o as object, 3));
    expect(bad({ cron: 'not a cron' })).toBe('cron');
    expect(bad({ cron: '0 * * * *', timezone: 'Mars/Olympus' })).toBe('timezone');
    expect(bad({ cron: '0 * * * *', every: 5000 })).toBe('cron');
    expect(bad({})).toBe('cron');
    expect(bad({ every: 999 })).toBe('every');
    expect(bad({ every: 1000, misfire: 'sometimes' })).toBe('misfire');
    expect(bad({ every: 1000, misfire: 'all', maxCatchUp: 0 })).toBe('maxCatchUp');
    expect(bad({ every: 1000, overlap: 'no' })).toBe('overlap');
    expect(bad({ every: 1000, startAt: new Date(2), endAt: new Date(1) })).toBe('endAt');
    expect(bad({ every: 1000, priority: 1.5 })).toBe('priority');
    expect(bad({ every: 1000, idempotencyKey: 'k' })).toBe('idempotencyKey');
    expect(() => normalizeRecurringOptions({ every: 999 }, 3)).toThrow(
      InvalidRecurringScheduleError,
    );
  });

  it('refuses an empty or overlong name', () => {
    expect(field(() => assertRecurringName(''))).toBe('name');
    expect(field(() => assertRecurringName('  '))).toBe('name');
    expect(field(() => assertRecurringName('x'.repeat(201)))).toBe('name');
    expect(() => assertRecurringName('nightly-report')).not.toThrow();
  });
});
