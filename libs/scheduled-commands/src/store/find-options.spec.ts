import { describe, expect, it } from 'vitest';
import { InvalidScheduleOptionsError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import {
  DEFAULT_FIND_LIMIT,
  encodeCursor,
  invalidFilter,
  MAX_FIND_LIMIT,
  parseFilter,
  parseFindOptions,
} from './find-options.js';
import { ScheduledCommandStatus, type ScheduledCommandFilter } from './scheduled-command-entry.js';

const ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

/** Runs `fn` and returns the InvalidScheduleOptionsError it throws (fails when it throws none). */
function invalid(fn: () => unknown): InvalidScheduleOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidScheduleOptionsError);
    return error as InvalidScheduleOptionsError;
  }
  throw new Error('expected an InvalidScheduleOptionsError');
}

describe('invalidFilter', () => {
  it('names the field and uses the message factory', () => {
    const error = invalidFilter('limit', 0, 'an integer');
    expect(error).toBeInstanceOf(InvalidScheduleOptionsError);
    expect(error.field).toBe('limit');
    expect(error.message).toBe(messages.invalidFilter('limit', 0, 'an integer'));
  });
});

describe('parseFindOptions', () => {
  it('applies the defaults', () => {
    const expected = { limit: DEFAULT_FIND_LIMIT, offset: 0, order: 'desc', afterId: null };
    expect(parseFindOptions(undefined)).toEqual(expected);
    expect(parseFindOptions({})).toEqual(expected);
    expect(DEFAULT_FIND_LIMIT).toBe(50);
  });

  it('keeps valid options', () => {
    expect(parseFindOptions({ limit: MAX_FIND_LIMIT, offset: 7, order: 'asc' })).toEqual({
      limit: 1000,
      offset: 7,
      order: 'asc',
      afterId: null,
    });
    expect(parseFindOptions({ limit: 1 }).limit).toBe(1);
  });

  it('rejects limits outside 1..1000 and non-integers', () => {
    for (const limit of [0, -1, 1001, 2.5, Number.NaN]) {
      const error = invalid(() => parseFindOptions({ limit }));
      expect(error.field).toBe('limit');
      expect(error.message).toContain('an integer from 1 to 1000');
    }
  });

  it('rejects a negative or fractional offset and an unknown order', () => {
    expect(invalid(() => parseFindOptions({ offset: -1 })).field).toBe('offset');
    expect(invalid(() => parseFindOptions({ offset: 1.5 })).field).toBe('offset');
    const order = invalid(() => parseFindOptions({ order: 'up' as 'asc' }));
    expect(order.field).toBe('order');
    expect(order.message).toContain('"up"');
  });

  it('round-trips a cursor and accepts a zero offset beside it', () => {
    const cursor = encodeCursor(ID);
    expect(parseFindOptions({ cursor }).afterId).toBe(ID);
    expect(parseFindOptions({ cursor, offset: 0, order: 'asc' })).toEqual({
      limit: DEFAULT_FIND_LIMIT,
      offset: 0,
      order: 'asc',
      afterId: ID,
    });
  });

  it('rejects a non-zero offset together with a cursor', () => {
    const error = invalid(() => parseFindOptions({ cursor: encodeCursor(ID), offset: 2 }));
    expect(error.field).toBe('offset');
    expect(error.message).toContain('cursor');
  });

  it('rejects cursors it did not make', () => {
    const cursors: unknown[] = [
      'not-a-cursor',
      '',
      Buffer.from('null').toString('base64url'),
      Buffer.from('{"id":42}').toString('base64url'),
      encodeCursor(''),
      encodeCursor('x'.repeat(65)),
      42,
    ];
    for (const cursor of cursors) {
      const error = invalid(() => parseFindOptions({ cursor: cursor as string }));
      expect(error.field).toBe('cursor');
      expect(error.message).toContain('nextCursor');
    }
    expect(parseFindOptions({ cursor: encodeCursor('x'.repeat(64)) }).afterId).toHaveLength(64);
  });
});

describe('parseFilter', () => {
  it('reads a missing or empty filter as no condition', () => {
    const none = {
      statuses: null,
      commandType: null,
      correlationId: null,
      recurringName: null,
      idempotencyKey: null,
      scheduledBefore: null,
      scheduledAfter: null,
    };
    expect(parseFilter(undefined)).toEqual(none);
    expect(parseFilter({})).toEqual(none);
  });

  it('reads every field', () => {
    const before = new Date('2030-01-02T00:00:00.000Z');
    const after = new Date('2030-01-01T00:00:00.000Z');
    expect(
      parseFilter({
        status: [
          ScheduledCommandStatus.Failed,
          ScheduledCommandStatus.Expired,
          ScheduledCommandStatus.Failed,
        ],
        commandType: 'SendEmail',
        correlationId: 'order-1',
        recurringName: 'nightly',
        idempotencyKey: 'key-1',
        scheduledBefore: before,
        scheduledAfter: after,
      }),
    ).toEqual({
      statuses: [ScheduledCommandStatus.Failed, ScheduledCommandStatus.Expired],
      commandType: 'SendEmail',
      correlationId: 'order-1',
      recurringName: 'nightly',
      idempotencyKey: 'key-1',
      scheduledBefore: before.getTime(),
      scheduledAfter: after.getTime(),
    });
    expect(parseFilter({ status: ScheduledCommandStatus.Pending }).statuses).toEqual([
      ScheduledCommandStatus.Pending,
    ]);
    expect(parseFilter({ status: [] }).statuses).toEqual([]);
  });

  it('rejects invalid fields, naming the first one', () => {
    const cases: [ScheduledCommandFilter, string, string][] = [
      [{ status: 'done' as ScheduledCommandStatus }, 'status', '"done"'],
      [{ status: ['pending', 'nope'] as ScheduledCommandStatus[] }, 'status', 'a list of them'],
      [{ commandType: 42 as unknown as string }, 'commandType', 'a string'],
      [{ correlationId: null as unknown as string }, 'correlationId', 'a string'],
      [{ idempotencyKey: 7 as unknown as string }, 'idempotencyKey', 'a string'],
      [{ scheduledBefore: new Date(Number.NaN) }, 'scheduledBefore', 'a valid Date'],
      [{ scheduledAfter: 'tomorrow' as unknown as Date }, 'scheduledAfter', 'a valid Date'],
      [
        { status: 'x' as ScheduledCommandStatus, scheduledAfter: new Date(Number.NaN) },
        'status',
        '"x"',
      ],
    ];
    for (const [filter, field, text] of cases) {
      const error = invalid(() => parseFilter(filter));
      expect(error.field).toBe(field);
      expect(error.message).toContain(text);
    }
  });
});
