import { describe, expect, it } from 'vitest';
import { InvalidCommandIdError } from '../errors/index.js';
import {
  assertCommandId,
  normalizeFilter,
  normalizeScheduleOptions,
  normalizeScheduleTime,
  normalizeStatuses,
} from './schedule-options.js';
import { invalidField as field } from '../errors/invalid-field.spec-support.js';

describe('normalizeScheduleOptions', () => {
  it('applies defaults', () => {
    expect(normalizeScheduleOptions(undefined, 3, undefined)).toEqual({
      scheduledFor: null,
      delay: null,
      priority: 0,
      maxRetries: 3,
      expiresAfter: null,
      correlationId: null,
      metadata: null,
      idempotencyKey: null,
    });
  });

  it('keeps valid values and takes the idempotency key from the command when the option is absent', () => {
    const at = new Date('2030-01-01T00:00:00Z');
    const o = normalizeScheduleOptions(
      {
        scheduledFor: at,
        priority: -5,
        maxRetries: 0,
        expiresAfter: 1000,
        correlationId: 'c',
        metadata: { userId: '42' },
      },
      3,
      'welcome:42',
    );
    expect(o).toMatchObject({
      scheduledFor: at,
      priority: -5,
      maxRetries: 0,
      expiresAfter: 1000,
      correlationId: 'c',
      metadata: { userId: '42' },
      idempotencyKey: 'welcome:42',
    });
    expect(normalizeScheduleOptions({ idempotencyKey: 'opt' }, 3, 'cmd').idempotencyKey).toBe(
      'opt',
    );
  });

  it.each([
    ['scheduledFor', { scheduledFor: new Date('nope') }],
    ['scheduledFor', { scheduledFor: '2030-01-01' }],
    ['scheduledFor', { scheduledFor: new Date(), delay: 5 }],
    ['delay', { delay: -1 }],
    ['delay', { delay: Infinity }],
    ['delay', { delay: NaN }],
    ['delay', { delay: '5' }],
    ['expiresAfter', { expiresAfter: -10 }],
    ['expiresAfter', { expiresAfter: 0 }],
    ['expiresAfter', { expiresAfter: 0.4 }],
    ['expiresAfter', { expiresAfter: NaN }],
    ['priority', { priority: 1.5 }],
    ['priority', { priority: '1' }],
    ['maxRetries', { maxRetries: -1 }],
    ['maxRetries', { maxRetries: 2.5 }],
    ['metadata.userId', { metadata: { userId: 42 } }],
    ['metadata', { metadata: 'x' }],
    ['metadata', { metadata: ['a'] }],
    ['correlationId', { correlationId: '' }],
    ['idempotencyKey', { idempotencyKey: 7 }],
    ['dealy', { dealy: 5 }],
  ])('rejects %s in %o', (name, options) => {
    expect(field(() => normalizeScheduleOptions(options as never, 3, undefined))).toBe(name);
  });

  it('names the field and the value in the message', () => {
    expect(() => normalizeScheduleOptions({ delay: -1 }, 3, undefined)).toThrow(
      'Invalid schedule option "delay": -1',
    );
    expect(() =>
      normalizeScheduleOptions({ scheduledFor: new Date(), delay: 1 }, 3, undefined),
    ).toThrow(/cannot both be set/);
  });
});

describe('normalizeScheduleTime / assertCommandId / normalizeFilter', () => {
  it('accepts exactly one of scheduledFor and delay', () => {
    expect(normalizeScheduleTime({ delay: 5 })).toEqual({ delay: 5 });
    expect(field(() => normalizeScheduleTime({}))).toBe('time');
    expect(field(() => normalizeScheduleTime({ delay: 1, scheduledFor: new Date() }))).toBe(
      'scheduledFor',
    );
    expect(field(() => normalizeScheduleTime({ at: new Date() }))).toBe('at');
  });

  it('rejects malformed ids with InvalidCommandIdError', () => {
    expect(() => assertCommandId('0190b6a0-1234-7abc-8def-0123456789ab')).not.toThrow();
    for (const bad of ['', 'x', 1, null, undefined, "1' OR 1=1"]) {
      expect(() => assertCommandId(bad)).toThrow(InvalidCommandIdError);
    }
  });

  it('validates filters', () => {
    expect(normalizeFilter({ status: 'failed', commandType: 'x' })).toEqual({
      status: ['failed'],
      commandType: 'x',
    });
    expect(field(() => normalizeFilter({ status: 'done' }))).toBe('status');
    expect(field(() => normalizeFilter({ scheduledBefore: 'yesterday' }))).toBe('scheduledBefore');
    expect(field(() => normalizeFilter({ colour: 'red' }))).toBe('colour');
    expect(normalizeFilter({ idempotencyKey: 'order-42' })).toEqual({ idempotencyKey: 'order-42' });
    expect(field(() => normalizeFilter({ idempotencyKey: '' }))).toBe('idempotencyKey');
    expect(field(() => normalizeFilter({ idempotencyKey: 42 }))).toBe('idempotencyKey');
  });
});

describe('normalizeStatuses', () => {
  it('accepts one status or a list, each one of the allowed statuses', () => {
    expect(normalizeStatuses('status', 'failed')).toEqual(['failed']);
    expect(normalizeStatuses('statuses', ['failed', 'expired'], ['failed', 'expired'])).toEqual([
      'failed',
      'expired',
    ]);
    expect(field(() => normalizeStatuses('statuses', [], ['failed']))).toBe('statuses');
    expect(field(() => normalizeStatuses('statuses', 'bogus'))).toBe('statuses');
    expect(() =>
      normalizeStatuses('statuses', ['failed', 'pending'], ['failed', 'expired']),
    ).toThrow(/"pending".*failed, expired/);
  });
});
