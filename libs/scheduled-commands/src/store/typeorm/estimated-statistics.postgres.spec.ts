import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPgDatabase,
  pgAvailable,
  type PgTestDatabase,
} from '../../../../../test/support/postgres.js';
import { SystemClock } from '../../clock.js';
import { newCommand } from '../../testing/index.js';
import { estimatedStatisticsOf } from './estimated-statistics.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from './typeorm-scheduled-command-store.js';

describe('estimatedStatisticsOf()', () => {
  const row = (fields: Record<string, unknown>) => ({
    v_pending: 0,
    v_processing: 0,
    v_failed: 0,
    v_cancelled: 0,
    v_expired: 0,
    v_finished: 0,
    v_oldest: null,
    v_due: 0,
    v_retrying: 0,
    v_rows: 0,
    v_values: null,
    v_freqs: null,
    ...fields,
  });

  it('keeps counts under the bound exact and derives completed from the finished rows', () => {
    const stats = estimatedStatisticsOf(
      row({ v_pending: '3', v_failed: '2', v_expired: '1', v_finished: '10', v_oldest: '5000' }),
      100,
    );
    expect(stats.counts).toEqual({
      pending: 3,
      processing: 0,
      completed: 7,
      failed: 2,
      cancelled: 0,
      expired: 1,
    });
    expect(stats.approximate).toEqual([]);
    expect(stats.total).toBe(13);
    expect(stats.oldestPendingScheduledFor).toEqual(new Date(5000));
  });

  it("estimates a status past the bound from the planner's share, completed from the table's size", () => {
    const stats = estimatedStatisticsOf(
      row({
        v_pending: '101',
        v_processing: '4',
        v_finished: '101',
        v_due: null,
        v_retrying: null,
        v_rows: 1_000_000,
        v_values: '{completed,pending,failed}',
        v_freqs: '{0.9,0.08,0.02}',
      }),
      100,
    );
    expect(stats.counts.pending).toBe(80_000);
    expect(stats.counts.processing).toBe(4);
    expect(stats.counts.completed).toBe(1_000_000 - 80_000 - 4);
    expect(stats.approximate).toEqual(['pending', 'completed']);
    expect([stats.dueNow, stats.waitingForRetry]).toEqual([null, null]);
  });

  it('never estimates fewer than it counted (no statistics yet)', () => {
    const stats = estimatedStatisticsOf(row({ v_failed: '11', v_finished: '11', v_rows: -1 }), 10);
    expect(stats.counts.failed).toBe(11);
    expect(stats.counts.completed).toBe(0);
    expect(stats.approximate).toEqual(['failed', 'completed']);
  });
});

describe.skipIf(!pgAvailable())('estimateStatistics() on PostgreSQL', () => {
  let database: PgTestDatabase;
  let dataSource: DataSource;
  let store: TypeOrmScheduledCommandStore;

  beforeAll(async () => {
    database = await createPgDatabase();
    dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      entities: [ScheduledCommandEntity],
      synchronize: true,
    }).initialize();
    store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('counts exactly under the bound and takes the planner statistics beyond it', async () => {
    const later = new Date(Date.now() + 3_600_000);
    await store.scheduleMany(Array.from({ length: 30 }, () => newCommand({ scheduledFor: later })));
    await store.scheduleMany(Array.from({ length: 5 }, () => newCommand()));
    const claimed = await store.claim({ workerId: 'w', limit: 5, leaseMs: 60_000 });
    await store.complete(
      claimed.slice(0, 4).map((e) => ({ lease: leaseOf(e), resultPayload: null })),
    );
    await dataSource.query('ANALYZE scheduled_commands');

    const exact = await store.estimateStatistics();
    expect(exact.approximate).toEqual([]);
    expect(exact.counts).toEqual((await store.getStatistics()).counts);
    expect(exact.dueNow).toBe(0);

    // Bound 3: 30 pending and 4 completed are past it; the one processing entry is not.
    const estimated = await store.estimateStatistics(3);
    expect(estimated.approximate).toEqual(['pending', 'completed']);
    // ANALYZE read every row of this small table: its shares are exact.
    expect(estimated.counts).toEqual(exact.counts);
    expect([estimated.dueNow, estimated.waitingForRetry]).toEqual([null, null]);
    expect(estimated.oldestPendingScheduledFor).toEqual(later);
  });
});

const leaseOf = (e: { id: string; lockedBy: string | null; attempts: number }) => ({
  id: e.id,
  workerId: e.lockedBy!,
  attempt: e.attempts,
});
