import 'reflect-metadata';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../clock.js';
import { InvalidScheduleOptionsError, ScheduledCommandsError } from '../../errors/index.js';
import { describeStoreConformance, ManualClock, newCommand } from '../../testing/conformance.js';
import type { StoreWatch } from '../scheduled-command-store.js';
import { SqliteDialect } from './dialects/sqlite-dialect.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from './typeorm-scheduled-command-store.js';

const START = new Date('2030-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh database file in a temporary directory. */
function tempDatabase(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-sqlite-'));
  tempDirs.push(dir);
  return path.join(dir, 'store.sqlite');
}

async function openDataSource(database: string, synchronize = true): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database,
    entities: [ScheduledCommandEntity],
    synchronize,
  });
  return dataSource.initialize();
}

describeStoreConformance('TypeOrmScheduledCommandStore on SQLite', async () => {
  const dataSource = await openDataSource(tempDatabase());
  const clock = new ManualClock(START);
  return {
    store: new TypeOrmScheduledCommandStore(dataSource, clock),
    clock,
    close: () => dataSource.destroy(),
  };
});

describe('TypeOrmScheduledCommandStore on SQLite', () => {
  const open: DataSource[] = [];
  const track = (dataSource: DataSource) => {
    open.push(dataSource);
    return dataSource;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((ds) => (ds.isInitialized ? ds.destroy() : undefined)));
  });

  it('switches a file database to WAL and keeps a busy timeout before the first statement', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    await dataSource.query('PRAGMA busy_timeout = 0');
    expect((await dataSource.query('PRAGMA journal_mode'))[0].journal_mode).toBe('delete');
    const store = new TypeOrmScheduledCommandStore(dataSource, new ManualClock(START));
    await store.schedule(newCommand());
    expect((await dataSource.query('PRAGMA journal_mode'))[0].journal_mode).toBe('wal');
    expect((await dataSource.query('PRAGMA busy_timeout'))[0].timeout).toBe(5_000);
  });

  it('leaves the connection alone with configureSqlite: false', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    const store = new TypeOrmScheduledCommandStore(dataSource, new ManualClock(START), {
      configureSqlite: false,
    });
    await store.schedule(newCommand());
    expect((await dataSource.query('PRAGMA journal_mode'))[0].journal_mode).toBe('delete');
  });

  it('watch() returns a handle that never calls back (SQLite cannot notify other processes)', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    const store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
    let wakeUps = 0;
    const watch = await store.watch(() => (wakeUps += 1));
    await store.schedule(newCommand());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(wakeUps).toBe(0);
    await expect(watch.close()).resolves.toBeUndefined();
  });

  it('calls a subclass override of watch()', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    const handle: StoreWatch = { close: async () => {} };
    class CustomWatchStore extends TypeOrmScheduledCommandStore {
      override async watch(): Promise<StoreWatch> {
        return handle;
      }
    }
    expect(await new CustomWatchStore(dataSource, new SystemClock()).watch()).toBe(handle);
  });

  it('refuses DataSource types it does not support, naming the supported ones', () => {
    const dataSource = { options: { type: 'oracle' } } as DataSource;
    expect(() => new TypeOrmScheduledCommandStore(dataSource, new SystemClock())).toThrow(
      ScheduledCommandsError,
    );
    expect(() => new TypeOrmScheduledCommandStore(dataSource, new SystemClock())).toThrow(
      /"oracle".*"better-sqlite3", "sqlite", "postgres", "mysql", "mariadb"/,
    );
  });

  it('stores times as epoch milliseconds and hands out plain entries with Date fields', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    const store = new TypeOrmScheduledCommandStore(dataSource, new ManualClock(START));
    const command = newCommand({ delay: 1_500, expiresAfter: 500, metadata: { a: 'b' } });
    await store.schedule(command);
    const [row] = await dataSource.query(
      'SELECT scheduled_for, expires_at, created_at, metadata FROM scheduled_commands',
    );
    expect(row).toEqual({
      scheduled_for: START.getTime() + 1_500,
      expires_at: START.getTime() + 2_000,
      created_at: START.getTime(),
      metadata: '{"a":"b"}',
    });
    const entry = await store.get(command.id);
    expect(Object.getPrototypeOf(entry)).toBe(Object.prototype);
    expect(entry?.scheduledFor).toEqual(new Date(START.getTime() + 1_500));
    // The entity reads the same columns back as numbers.
    const entity = await dataSource
      .getRepository(ScheduledCommandEntity)
      .findOneByOrFail({ id: command.id });
    expect(entity.scheduledFor).toBe(START.getTime() + 1_500);
  });

  it('validates find() options', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    const store = new TypeOrmScheduledCommandStore(dataSource, new ManualClock(START));
    const bad = [
      { limit: 0 },
      { limit: 1001 },
      { limit: 1.5 },
      { offset: -1 },
      { order: 'up' as 'asc' },
      { cursor: 'not-a-cursor' },
      { cursor: Buffer.from('{"id":"x"}').toString('base64url'), offset: 2 },
    ];
    for (const options of bad) {
      await expect(store.find({}, options)).rejects.toBeInstanceOf(InvalidScheduleOptionsError);
    }
    await expect(store.find({ status: 'nope' as 'pending' })).rejects.toBeInstanceOf(
      InvalidScheduleOptionsError,
    );
    await expect(store.find({ scheduledAfter: new Date(Number.NaN) })).rejects.toThrow(
      /scheduledAfter/,
    );
    expect(await store.find({ status: [] })).toEqual({ items: [], nextCursor: null });
  });

  it('schedules more commands than one statement carries, in input order', async () => {
    const dataSource = track(await openDataSource(tempDatabase()));
    const store = new TypeOrmScheduledCommandStore(dataSource, new ManualClock(START));
    const commands = Array.from({ length: 2_345 }, (_, i) =>
      newCommand({ idempotencyKey: i % 1000 === 7 ? 'shared' : null }),
    );
    const results = await store.scheduleMany(commands);
    expect(results).toHaveLength(commands.length);
    expect(results.filter((r) => r.created)).toHaveLength(commands.length - 2);
    expect(results[1007]).toEqual({ id: commands[7].id, created: false });
    expect(results[2007]).toEqual({ id: commands[7].id, created: false });
    expect(results[2344]).toEqual({ id: commands[2344].id, created: true });
    expect(await store.getPendingCount()).toBe(commands.length - 2);
  });

  it('never gives one row to two DataSources (two connections to one file) claiming at once', async () => {
    const database = tempDatabase();
    const a = track(await openDataSource(database));
    const b = track(await openDataSource(database, false));
    const clock = new ManualClock(START);
    const storeA = new TypeOrmScheduledCommandStore(a, clock);
    const storeB = new TypeOrmScheduledCommandStore(b, clock);
    await storeA.scheduleMany(
      Array.from({ length: 300 }, (_, i) =>
        newCommand({ scheduledFor: new Date(START.getTime() - i), priority: i % 4 }),
      ),
    );
    const claims = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? storeA : storeB).claim({ workerId: `w${i}`, limit: 10, leaseMs: HOUR }),
      ),
    );
    const claimed = claims.flat().map((e) => e.id);
    expect(claimed).toHaveLength(300);
    expect(new Set(claimed).size).toBe(300);
    expect(await storeB.getProcessingCount()).toBe(300);
  });

  it('never gives one row to two processes claiming from one file at once', async () => {
    const database = tempDatabase();
    const dataSource = track(await openDataSource(database));
    const clock = new ManualClock(START);
    const store = new TypeOrmScheduledCommandStore(dataSource, clock);
    const total = 2_000;
    await store.scheduleMany(
      Array.from({ length: total }, (_, i) => newCommand({ priority: i % 3, delay: 0 })),
    );
    // Each child process runs the store's claim statement on its own connection until nothing is left.
    const dialect = new SqliteDialect({ nowMs: () => clock.now().getTime() });
    // Small claims (2 rows) make the run long enough for every child to join in.
    const claim = dialect.bind(dialect.claimSql('"scheduled_commands"', 'id'), ['child', 2, HOUR]);
    // Children start claiming together once all of them are ready (the "go" file appears).
    const go = `${database}.go`;
    const child = `
      const fs = require('node:fs');
      const Database = require(process.env.SQLITE_DRIVER);
      const db = new Database(process.env.SQLITE_FILE, { timeout: 10000 });
      const stmt = db.prepare(process.env.CLAIM_SQL);
      const params = JSON.parse(process.env.CLAIM_PARAMS);
      process.stderr.write('ready\\n');
      while (!fs.existsSync(process.env.GO_FILE)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      const ids = [];
      for (let rows; (rows = stmt.all(...params)).length > 0; ) ids.push(...rows.map((r) => r.id));
      process.stdout.write(JSON.stringify(ids));`;
    let ready = 0;
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const proc = spawn(process.execPath, ['-e', child], {
          env: {
            ...process.env,
            SQLITE_DRIVER: createRequire(import.meta.url).resolve('better-sqlite3'),
            SQLITE_FILE: database,
            GO_FILE: go,
            CLAIM_SQL: claim.sql,
            CLAIM_PARAMS: JSON.stringify(claim.params),
          },
        });
        let out = '';
        let err = '';
        proc.stdout.on('data', (d) => (out += d));
        proc.stderr.on('data', (d) => {
          err += d;
          if (String(d).includes('ready') && ++ready === 4) fs.writeFileSync(go, '');
        });
        proc.on('error', reject);
        proc.on('close', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err)),
        );
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    const claimed = results.flat();
    expect(claimed).toHaveLength(total);
    expect(new Set(claimed).size).toBe(total);
    // How the rows are shared out is up to SQLite's lock (a busy process can take them all while the
    // others sleep in their busy handler); what must hold is that every row went to exactly one.
    expect(results).toHaveLength(4);
    expect(await store.getProcessingCount()).toBe(total);
  });

  describe('claim with many future commands', () => {
    let dataSource: DataSource;
    let store: TypeOrmScheduledCommandStore;
    const clock = new ManualClock(START);
    const FUTURE = 200_000;

    beforeAll(async () => {
      dataSource = await openDataSource(tempDatabase());
      store = new TypeOrmScheduledCommandStore(dataSource, clock);
      // Fill the table in SQL: 200,000 future commands over three priorities.
      await dataSource.query(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${FUTURE})
        INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
          retry_count, max_retries, attempts, created_at)
        SELECT printf('00000000-0000-7000-8000-%012d', i), 'future', '{}', 'pending',
               ${START.getTime() + HOUR} + i, i % 3, 0, 3, 0, ${START.getTime()}
        FROM n`,
      );
    }, 60_000);

    afterAll(async () => {
      await dataSource?.destroy();
    });

    it('walks the claim index (no table scan, no sort of the pending rows)', async () => {
      const dialect = new SqliteDialect({ nowMs: () => clock.now().getTime() });
      const { sql, params } = dialect.bind(dialect.claimSql('"scheduled_commands"', 'id'), [
        'w',
        10,
        HOUR,
      ]);
      const plan = (await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, params))
        .map((row: { detail: string }) => row.detail)
        .join('\n');
      expect(plan).toContain('USING INDEX IDX_scheduled_commands_claim (priority=? AND');
      expect(plan).not.toMatch(/SCAN (scheduled_commands|c|nx)\b|TEMP B-TREE/);
    });

    it('claims the few due commands among them, in claim order', async () => {
      const due = Array.from({ length: 5 }, (_, i) =>
        newCommand({
          scheduledFor: new Date(START.getTime() - i * 1000),
          priority: i === 3 ? 1 : 0,
        }),
      );
      await store.scheduleMany(due);
      const claimed = await store.claim({ workerId: 'w', limit: 100, leaseMs: HOUR });
      expect(claimed.map((e) => e.id)).toEqual(
        [due[3], due[4], due[2], due[1], due[0]].map((c) => c.id),
      );
      expect(await store.msUntilNextDue()).toBe(HOUR + 1);
    });

    it('claims from a large backlog of due commands in claim order', async () => {
      clock.set(START.getTime() + HOUR + FUTURE);
      const claimed = await store.claim({ workerId: 'w', limit: 50, leaseMs: HOUR });
      expect(claimed).toHaveLength(50);
      expect(claimed.every((e) => e.priority === 2)).toBe(true);
      expect(claimed.map((e) => e.scheduledFor.getTime())).toEqual(
        Array.from({ length: 50 }, (_, i) => START.getTime() + HOUR + 2 + 3 * i),
      );
    });
  });
});
