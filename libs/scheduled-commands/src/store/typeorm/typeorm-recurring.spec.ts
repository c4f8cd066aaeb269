import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPgDatabase,
  pgAvailable,
  type PgTestDatabase,
} from '../../../../../test/support/postgres.js';
import { SystemClock } from '../../clock.js';
import { normalizeRecurringOptions } from '../../recurring/recurring-options.js';
import { newOccurrence } from '../../worker/recurring-materializer.js';
import type { RecurringScheduleFields } from '../recurring-schedule-record.js';
import { RecurringScheduleEntity } from './recurring-schedule.entity.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from './typeorm-scheduled-command-store.js';

const TRACE_CONTEXT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const fields = (traceContext: string | null): RecurringScheduleFields => ({
  ...normalizeRecurringOptions({ every: 60_000 }, 3),
  name: 'nightly',
  commandType: 'reports.nightly',
  payload: '{}',
  declared: false,
  paused: false,
  nextFireAt: null,
  lastFireAt: null,
  traceContext,
});

/** The schedule's trace context is kept by every write and copied into each occurrence. */
async function expectTraceContextKept(options: DataSourceOptions): Promise<void> {
  const dataSource = await new DataSource({
    ...options,
    entities: [ScheduledCommandEntity, RecurringScheduleEntity],
    synchronize: true,
  }).initialize();
  try {
    const store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
    const created = await store.writeRecurring({
      schedule: fields(TRACE_CONTEXT),
      expectedVersion: null,
      dropFutureOccurrences: false,
    });
    expect(created?.traceContext).toBe(TRACE_CONTEXT);
    // A pause keeps it (the scheduler writes the record it read back, changed).
    const paused = await store.writeRecurring({
      schedule: { ...created!, paused: true },
      expectedVersion: created!.version,
      dropFutureOccurrences: true,
    });
    expect((await store.getRecurring('nightly'))?.traceContext).toBe(TRACE_CONTEXT);
    const [id] = (await store.materializeRecurring({
      name: 'nightly',
      expectedVersion: null,
      nextFireAt: null,
      lastFireAt: null,
      occurrences: [newOccurrence(paused!, null)],
    }))!;
    expect((await store.get(id))?.traceContext).toBe(TRACE_CONTEXT);
    // A schedule written without telemetry has none.
    await store.writeRecurring({
      schedule: { ...paused!, traceContext: null },
      expectedVersion: paused!.version,
      dropFutureOccurrences: false,
    });
    expect((await store.getRecurring('nightly'))?.traceContext).toBeNull();
  } finally {
    await dataSource.destroy();
  }
}

describe('recurring schedules: trace context (TypeORM store)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-recurring-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('SQLite: kept with the schedule and copied into its occurrences', async () => {
    await expectTraceContextKept({ type: 'better-sqlite3', database: path.join(dir, 'db.sqlite') });
  });

  it.skipIf(!pgAvailable())(
    'PostgreSQL: kept with the schedule and copied into its occurrences',
    async () => {
      const db: PgTestDatabase = await createPgDatabase();
      try {
        await expectTraceContextKept({ type: 'postgres', url: db.url });
      } finally {
        await db.drop();
      }
    },
  );
});
