import 'reflect-metadata';
import pg from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPgDatabase,
  pgAvailable,
  type PgTestDatabase,
} from '../../../../../test/support/postgres.js';
import { SystemClock } from '../../clock.js';
import type { StoreWatch } from '../scheduled-command-store.js';
import { describeStoreConformance, ManualClock, newCommand } from '../../testing/conformance.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from './typeorm-scheduled-command-store.js';

const HOUR = 3_600_000;

/** Resolves once `predicate` holds, polling every 10 ms, or fails after `timeoutMs`. */
async function eventually(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!pgAvailable())('TypeOrmScheduledCommandStore on PostgreSQL', () => {
  let database: PgTestDatabase;
  let dataSource: DataSource;
  const extra: DataSource[] = [];

  const openDataSource = async (synchronize = false): Promise<DataSource> => {
    const ds = new DataSource({
      type: 'postgres',
      url: database.url,
      entities: [ScheduledCommandEntity],
      synchronize,
    });
    await ds.initialize();
    extra.push(ds);
    return ds;
  };

  beforeAll(async () => {
    database = await createPgDatabase();
    dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      entities: [ScheduledCommandEntity],
      synchronize: true,
    }).initialize();
  });

  afterAll(async () => {
    await Promise.all(extra.map((ds) => (ds.isInitialized ? ds.destroy() : undefined)));
    await dataSource?.destroy();
    await database?.drop();
  });

  // The store uses the database clock: the suite runs without a manual clock.
  describeStoreConformance('TypeOrmScheduledCommandStore on PostgreSQL', async () => {
    await dataSource.query('TRUNCATE scheduled_commands');
    return {
      store: new TypeOrmScheduledCommandStore(dataSource, new SystemClock()),
      close: async () => {},
    };
  });

  describe('specifics', () => {
    let store: TypeOrmScheduledCommandStore;
    const watches: StoreWatch[] = [];

    beforeAll(async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
      store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
    });

    afterEach(async () => {
      await Promise.all(watches.splice(0).map((w) => w.close()));
      await dataSource.query('TRUNCATE scheduled_commands');
    });

    it('decides what is due and stamps times with the database clock, not the app clock', async () => {
      // An app clock ten years behind changes nothing on PostgreSQL.
      const skewed = new TypeOrmScheduledCommandStore(
        dataSource,
        new ManualClock(new Date('2020-01-01')),
      );
      const before = Date.now();
      const command = newCommand({ delay: 0 });
      await skewed.schedule(command);
      const [claimed] = await skewed.claim({ workerId: 'w', limit: 1, leaseMs: 1_000 });
      expect(claimed?.id).toBe(command.id);
      const [{ now }] = await dataSource.query(
        `SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now`,
      );
      for (const time of [claimed.createdAt, claimed.scheduledFor, claimed.startedAt as Date]) {
        expect(time.getTime()).toBeGreaterThanOrEqual(before - 1_000);
        expect(time.getTime()).toBeLessThanOrEqual(Number(now));
      }
      expect((claimed.lockedUntil as Date).getTime() - (claimed.startedAt as Date).getTime()).toBe(
        1_000,
      );
    });

    it('leaves due commands scheduled before the scheduledFrom hint out of a claim', async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
      const now = Date.now();
      const [a, b, c] = [3, 2, 1].map((minutes) =>
        newCommand({ scheduledFor: new Date(now - minutes * 60_000) }),
      );
      await store.scheduleMany([a, b, c]);
      const hinted = await store.claim({
        workerId: 'w',
        limit: 10,
        leaseMs: HOUR,
        scheduledFrom: b.scheduledFor,
      });
      expect(hinted.map((e) => e.id)).toEqual([b.id, c.id]);
      const rest = await store.claim({
        workerId: 'w',
        limit: 10,
        leaseMs: HOUR,
        scheduledFrom: null,
      });
      expect(rest.map((e) => e.id)).toEqual([a.id]);
    });

    it('converts bigint columns (strings from pg) to Dates and counts to numbers', async () => {
      const scheduledFor = new Date('2031-05-06T07:08:09.123Z');
      const command = newCommand({ scheduledFor, expiresAfter: 1, metadata: { k: 'v' } });
      await store.schedule(command);
      const [raw] = await dataSource.query(
        'SELECT scheduled_for, expires_at FROM scheduled_commands WHERE id = $1',
        [command.id],
      );
      // The driver returns bigint as a string: the store must not hand that out.
      expect(raw.scheduled_for).toBe(String(scheduledFor.getTime()));
      const entry = await store.get(command.id);
      expect(entry?.scheduledFor).toEqual(scheduledFor);
      expect(entry?.expiresAt).toEqual(new Date(scheduledFor.getTime() + 1));
      expect(entry?.metadata).toEqual({ k: 'v' });
      expect(await store.getPendingCount()).toBe(1);
      const stats = await store.getStatistics();
      expect(stats.total).toBe(1);
      expect(stats.oldestPendingScheduledFor).toEqual(scheduledFor);
      expect(typeof (await store.msUntilNextDue())).toBe('number');
      const entity = await dataSource
        .getRepository(ScheduledCommandEntity)
        .findOneByOrFail({ id: command.id });
      expect(entity.scheduledFor).toBe(scheduledFor.getTime());
    });

    it('never gives one row to two DataSources claiming concurrently', async () => {
      const other = new TypeOrmScheduledCommandStore(await openDataSource(), new SystemClock());
      await store.scheduleMany(
        Array.from({ length: 500 }, (_, i) => newCommand({ delay: 0, priority: i % 5 })),
      );
      const claims = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? store : other).claim({ workerId: `w${i}`, limit: 25, leaseMs: HOUR }),
        ),
      );
      const ids = claims.flat().map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      const rest = await store.claim({ workerId: 'last', limit: 500, leaseMs: HOUR });
      expect(ids.length + rest.length).toBe(500);
      for (const [i, claimed] of claims.entries()) {
        expect(claimed.every((e) => e.lockedBy === `w${i}`)).toBe(true);
      }
    });

    it('wakes up watchers of other instances when commands are scheduled, rescheduled or requeued', async () => {
      const other = new TypeOrmScheduledCommandStore(await openDataSource(), new SystemClock());
      let wakeUps = 0;
      const watch = await store.watch!(() => {
        wakeUps += 1;
      });
      watches.push(watch);

      const command = newCommand({ delay: HOUR });
      await other.schedule(command);
      await eventually(() => wakeUps === 1);
      await other.scheduleMany([newCommand(), newCommand()]);
      await eventually(() => wakeUps === 2);
      await other.reschedule(command.id, { delay: 0 });
      await eventually(() => wakeUps === 3);
      const [claimed] = await other.claim({ workerId: 'w', limit: 1, leaseMs: HOUR });
      await other.deadLetter({ id: claimed.id, workerId: 'w', attempt: 1 }, 'x');
      await other.requeue(claimed.id, ['failed']);
      await eventually(() => wakeUps === 4);

      // Nothing changed, nothing sent.
      expect(await other.reschedule(newCommand().id, { delay: 0 })).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(wakeUps).toBe(4);
    });

    it('calls a subclass override of watch()', async () => {
      const handle: StoreWatch = { close: async () => {} };
      const calls: (() => void)[] = [];
      class CustomWatchStore extends TypeOrmScheduledCommandStore {
        override async watch(onScheduled: () => void): Promise<StoreWatch> {
          calls.push(onScheduled);
          return handle;
        }
      }
      const custom = new CustomWatchStore(dataSource, new SystemClock());
      const onScheduled = () => undefined;
      expect(await custom.watch(onScheduled)).toBe(handle);
      expect(calls).toEqual([onScheduled]);
    });

    it('reconnects the LISTEN connection after it is killed, and close() ends it', async () => {
      let wakeUps = 0;
      const watch = await store.watch!(() => {
        wakeUps += 1;
      });
      watches.push(watch);
      const listeners = async (): Promise<number[]> =>
        (
          await dataSource.query(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
          )
        ).map((row: { pid: number }) => row.pid);
      const [pid] = await listeners();
      expect(pid).toBeGreaterThan(0);

      await dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
      // Back on a new connection, it calls onScheduled once for what it may have missed.
      await eventually(async () => wakeUps === 1 && (await listeners()).some((p) => p !== pid));
      await store.schedule(newCommand());
      await eventually(() => wakeUps === 2);

      await watch.close();
      await eventually(async () => (await listeners()).length === 0);
      await store.schedule(newCommand());
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(wakeUps).toBe(2);
    });

    it('reaches the server with the DataSource host/port/username/database options too', async () => {
      const url = new URL(database.url);
      const ds = new DataSource({
        type: 'postgres',
        host: url.hostname,
        port: Number(url.port),
        username: decodeURIComponent(url.username),
        database: url.pathname.slice(1),
        entities: [ScheduledCommandEntity],
      });
      await ds.initialize();
      extra.push(ds);
      const separate = new TypeOrmScheduledCommandStore(ds, new SystemClock());
      let wakeUps = 0;
      watches.push(await separate.watch!(() => (wakeUps += 1)));
      await store.schedule(newCommand());
      await eventually(() => wakeUps === 1);
    });

    it('keeps a completion batch in one statement', async () => {
      await store.scheduleMany(Array.from({ length: 1_500 }, () => newCommand()));
      const claimed = await store.claim({ workerId: 'w', limit: 1_500, leaseMs: HOUR });
      expect(claimed).toHaveLength(1_500);
      const written = await store.complete(
        claimed.map((e) => ({
          lease: { id: e.id, workerId: 'w', attempt: 1 },
          resultPayload: `"${e.id}"`,
        })),
      );
      expect(written).toHaveLength(1_500);
      expect(await store.getCompletedCount()).toBe(1_500);
      const sample = await store.get(claimed[777].id);
      expect(sample?.resultPayload).toBe(`"${claimed[777].id}"`);
    });
  });

  describe('prepared statements', () => {
    /** A DataSource whose pool holds one connection, so every statement runs on the same session. */
    const openSingleConnection = async (): Promise<DataSource> => {
      const ds = new DataSource({
        type: 'postgres',
        url: database.url,
        entities: [ScheduledCommandEntity],
        extra: { max: 1 },
      });
      await ds.initialize();
      extra.push(ds);
      return ds;
    };
    const preparedStatements = async (
      ds: DataSource,
    ): Promise<{ name: string; statement: string; executions: number }[]> =>
      (
        await ds.query(
          `SELECT name, statement, generic_plans + custom_plans AS executions
           FROM pg_prepared_statements ORDER BY name`,
        )
      ).map((row: { name: string; statement: string; executions: string }) => ({
        ...row,
        executions: Number(row.executions),
      }));

    beforeEach(async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
    });

    it('runs a repeated claim as one named prepared statement by default', async () => {
      const ds = await openSingleConnection();
      const store = new TypeOrmScheduledCommandStore(ds, new SystemClock());
      const commands = Array.from({ length: 3 }, () => newCommand({ delay: 0 }));
      await store.scheduleMany(commands);
      const claimed: string[] = [];
      for (let i = 0; i < 4; i++) {
        claimed.push(
          ...(await store.claim({ workerId: 'w', limit: 1, leaseMs: HOUR })).map((e) => e.id),
        );
      }
      expect(claimed).toEqual(commands.map((c) => c.id));

      // Prepared on this session: the insert (run once) and the claim (run four times).
      const prepared = await preparedStatements(ds);
      expect(prepared.map((p) => p.name)).toEqual([
        expect.stringMatching(/^sc_[0-9a-f]+$/),
        expect.stringMatching(/^sc_[0-9a-f]+$/),
      ]);
      const claims = prepared.filter((p) => !p.statement.includes('INSERT INTO'));
      expect(claims).toHaveLength(1);
      expect(claims[0].executions).toBe(4);
      expect(prepared.find((p) => p !== claims[0])?.executions).toBe(1);

      // A second store on the same table reuses the connection's statement.
      const other = new TypeOrmScheduledCommandStore(ds, new SystemClock());
      expect(await other.claim({ workerId: 'w', limit: 1, leaseMs: HOUR })).toEqual([]);
      const after = (await preparedStatements(ds)).filter((s) => s.name === claims[0].name);
      expect(after).toEqual([{ ...claims[0], executions: 5 }]);
    });

    it('works without prepared statements (preparedStatements: false)', async () => {
      const ds = await openSingleConnection();
      const store = new TypeOrmScheduledCommandStore(ds, new SystemClock(), {
        preparedStatements: false,
      });
      const command = newCommand({ delay: 0 });
      expect(await store.schedule(command)).toEqual({ id: command.id, created: true });
      const [claimed] = await store.claim({ workerId: 'w', limit: 1, leaseMs: HOUR });
      expect(claimed?.id).toBe(command.id);
      expect(
        await store.complete([
          { lease: { id: command.id, workerId: 'w', attempt: 1 }, resultPayload: '1' },
        ]),
      ).toEqual([command.id]);
      expect((await store.get(command.id))?.status).toBe('completed');
      expect(await preparedStatements(ds)).toEqual([]);
    });

    it('surfaces statement errors as QueryFailedError and gives the connection back', async () => {
      const ds = await openSingleConnection();
      const store = new TypeOrmScheduledCommandStore(ds, new SystemClock(), {
        tableName: 'no_such_table',
      });
      for (let i = 0; i < 2; i++) {
        const error = await store.claim({ workerId: 'w', limit: 1, leaseMs: HOUR }).catch((e) => e);
        expect(error).toBeInstanceOf(QueryFailedError);
        expect(error).toMatchObject({ code: '42P01' });
      }
      // The single pooled connection was released: a leak would make this wait forever.
      expect(await ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });

    it('releases the runner when its connection dies during a statement', async () => {
      const ds = await openSingleConnection();
      const store = new TypeOrmScheduledCommandStore(ds, new SystemClock());
      const command = newCommand({ delay: HOUR });
      await store.schedule(command);
      // Hold the row's lock from another connection so that cancel() waits on it.
      const locker = dataSource.createQueryRunner();
      await locker.startTransaction();
      try {
        await locker.query('SELECT id FROM scheduled_commands WHERE id = $1 FOR UPDATE', [
          command.id,
        ]);
        const cancelled = store.cancel(command.id).catch((e: unknown) => e);
        let pid = 0;
        await eventually(async () => {
          const rows: { pid: number }[] = await dataSource.query(
            `SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE '%cancelled%'`,
          );
          pid = rows[0]?.pid ?? 0;
          return pid > 0;
        });
        await dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
        expect(await cancelled).toBeInstanceOf(QueryFailedError);
      } finally {
        await locker.rollbackTransaction();
        await locker.release();
      }
      // The runner went back to the one-connection pool (a leak would block every later call),
      // and the pool replaces the dead connection: the store carries on. The pool may hand the
      // dead connection out once more before its end is seen, as with any statement run through
      // TypeORM, hence the retries.
      await eventually(async () => {
        const entry = await store.cancel(command.id).catch(() => null);
        return entry?.status === 'cancelled';
      });
    });
  });

  describe('batch writes on a table of finished commands', () => {
    it('find the held rows by primary key, in the generic plan too, whatever the statistics', async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
      const store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
      // 10,000 finished rows written moments ago, as in a young table. A join against a JSON batch of
      // unknown size then looks cheapest as a hash join over a scan of the whole table, and each
      // pooled connection would keep that plan for its prepared statement as the table grows.
      await dataSource.query(
        `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
           retry_count, max_retries, attempts, created_at, completed_at)
         SELECT '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'), 'done', '{}', 'completed',
                0, 0, 0, 3, 1, 0, 1
         FROM generate_series(1, 10000) AS i`,
      );
      await store.scheduleMany(Array.from({ length: 200 }, () => newCommand()));
      const held = await store.claim({ workerId: 'w', limit: 200, leaseMs: HOUR });
      expect(held).toHaveLength(200);
      const leases = held.map((e) => ({ id: e.id, workerId: 'w', attempt: e.attempts }));

      // The statements exactly as the store sends them, captured from the DataSource's logger.
      const sent: { sql: string; params: unknown[] }[] = [];
      const logQuery = dataSource.logger.logQuery.bind(dataSource.logger);
      dataSource.logger.logQuery = (sql, params, runner) => {
        sent.push({ sql, params: Array.isArray(params) ? params : [] });
        logQuery(sql, params, runner);
      };
      try {
        expect(await store.extendLeases(leases.slice(0, 100), HOUR)).toHaveLength(100);
        expect(
          await store.complete(
            leases.slice(0, 100).map((lease) => ({ lease, resultPayload: '1' })),
          ),
        ).toHaveLength(100);
      } finally {
        dataSource.logger.logQuery = logQuery;
      }
      expect(sent).toHaveLength(2);

      const runner = dataSource.createQueryRunner();
      try {
        for (const [i, statement] of sent.entries()) {
          for (const mode of ['force_custom_plan', 'force_generic_plan']) {
            await runner.startTransaction();
            try {
              await runner.query(`SET LOCAL plan_cache_mode = ${mode}`);
              await runner.query(`PREPARE sc_explain_batch_${i} AS ${statement.sql}`);
              const literals = statement.params.map((p) => `'${String(p).replace(/'/g, "''")}'`);
              const rows: { 'QUERY PLAN': string }[] = await runner.query(
                `EXPLAIN (ANALYZE, COSTS OFF) EXECUTE sc_explain_batch_${i}(${literals.join(', ')})`,
              );
              const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
              expect(plan).toContain('PK_scheduled_commands');
              expect(plan).not.toMatch(/Seq Scan on scheduled_commands/);
            } finally {
              await runner.rollbackTransaction();
              await runner.query(`DEALLOCATE sc_explain_batch_${i}`);
            }
          }
        }
      } finally {
        await runner.release();
      }
      // The remaining leases still complete (the EXPLAINs were rolled back).
      expect(
        await store.complete(leases.slice(100).map((lease) => ({ lease, resultPayload: null }))),
      ).toHaveLength(100);
      expect((await store.countByStatus()).completed).toBe(10_200);
    }, 60_000);
  });

  describe('claim with 1,000,000 future commands', () => {
    const FUTURE = 1_000_000;
    let store: TypeOrmScheduledCommandStore;
    /**
     * Runs EXPLAIN ANALYZE of the claim (rolled back) and returns the plan text. `generic`: as a
     * prepared statement forced onto its generic plan, the plan PostgreSQL may settle on when the
     * store runs the claim as a prepared statement.
     */
    const explainClaim = async (limit: number, generic = false): Promise<string> => {
      const runner = dataSource.createQueryRunner();
      try {
        await runner.startTransaction();
        const dialect = (
          store as unknown as {
            dialect: {
              claimSql(t: string, r: string): string;
              bind(s: string, p: unknown[]): { sql: string; params: unknown[] };
            };
          }
        ).dialect;
        const { sql, params } = dialect.bind(dialect.claimSql('"scheduled_commands"', 'id'), [
          'explain',
          limit,
          HOUR,
          Number.MIN_SAFE_INTEGER,
        ]);
        let explained = { sql, params };
        if (generic) {
          await runner.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
          await runner.query(`PREPARE sc_explain_claim AS ${sql}`);
          // EXECUTE takes no bind parameters: the values are literals.
          explained = {
            sql: `EXECUTE sc_explain_claim('explain', ${limit}, ${HOUR}, ${Number.MIN_SAFE_INTEGER})`,
            params: [],
          };
        }
        const rows: { 'QUERY PLAN': string }[] = await runner.query(
          `EXPLAIN (ANALYZE, COSTS OFF) ${explained.sql}`,
          explained.params,
        );
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await runner.rollbackTransaction();
        // Prepared statements outlive the transaction.
        if (generic) await runner.query('DEALLOCATE sc_explain_claim');
        await runner.release();
      }
    };

    beforeAll(async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
      store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
      await dataSource.query(
        `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
           retry_count, max_retries, attempts, created_at)
         SELECT '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'), 'future', '{}', 'pending',
                (extract(epoch from now()) * 1000)::bigint + ${HOUR} + i, i % 3, 0, 3, 0,
                (extract(epoch from now()) * 1000)::bigint
         FROM generate_series(1, ${FUTURE}) AS i`,
      );
      await dataSource.query('VACUUM ANALYZE scheduled_commands');
    }, 120_000);

    afterAll(async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
    });

    it('uses the claim index and reads no future row when nothing is due', async () => {
      // The store runs the claim as a prepared statement: its generic plan must be as good.
      for (const plan of [await explainClaim(100), await explainClaim(100, true)]) {
        expect(plan).toContain('IDX_scheduled_commands_claim');
        expect(plan).not.toMatch(/Seq Scan on scheduled_commands/);
        expect(plan).not.toMatch(/Sort/);
      }
      expect(await store.claim({ workerId: 'w', limit: 100, leaseMs: HOUR })).toEqual([]);
    });

    it('claims the few due commands in claim order, reading only them', async () => {
      const due = Array.from({ length: 5 }, (_, i) =>
        newCommand({
          scheduledFor: new Date(Date.now() - (i + 1) * 60_000),
          priority: i === 3 ? 1 : 0,
        }),
      );
      await store.scheduleMany(due);
      for (const plan of [await explainClaim(100), await explainClaim(100, true)]) {
        expect(plan).not.toMatch(/Seq Scan on scheduled_commands/);
        // Every index scan of the table returned at most the due rows.
        for (const match of plan.matchAll(
          /Index (?:Only )?Scan.* on scheduled_commands c.*rows=(\d+) loops=(\d+)/g,
        )) {
          expect(Number(match[1])).toBeLessThanOrEqual(5);
        }
      }
      const claimed = await store.claim({ workerId: 'w', limit: 100, leaseMs: HOUR });
      expect(claimed.map((e) => e.id)).toEqual(
        [due[3], due[4], due[2], due[1], due[0]].map((c) => c.id),
      );
    });

    it('takes a batch from a large backlog of due commands without scanning it', async () => {
      await dataSource.query(
        `UPDATE scheduled_commands SET scheduled_for = scheduled_for - ${2 * HOUR}
         WHERE command_type = 'future' AND scheduled_for % 10 = 0`,
      );
      for (const plan of [await explainClaim(50), await explainClaim(50, true)]) {
        expect(plan).not.toMatch(/Seq Scan on scheduled_commands/);
        expect(plan).toMatch(/Limit \(actual time=[\d.]+\.\.[\d.]+ rows=50 loops=1\)/);
      }
      const claimed = await store.claim({ workerId: 'w', limit: 50, leaseMs: HOUR });
      expect(claimed).toHaveLength(50);
      expect(claimed.every((e) => e.priority === 2)).toBe(true);
      const times = claimed.map((e) => e.scheduledFor.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });
  });
});
