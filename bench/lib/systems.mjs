/**
 * The systems under test: which script runs them, how they are configured, which table gates their
 * start, and how the runner tells that every job is finished.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Child } from './processes.mjs';
import { createDatabase, withClient } from './db.mjs';
import { createMysqlDatabase, firstRow, MYSQL_NOW_MS, withMysql } from './mysql.mjs';

/** Our worker settings for throughput (module options `batchSize`, `concurrency`, `pollingInterval`). */
export const OURS = { batchSize: 500, concurrency: 500, pollingInterval: 1_000 };
/** pg-boss: `work()` loops per process, jobs per fetch, polling interval (its minimum). */
export const PGBOSS = { workers: 4, batchSize: 500, pollingInterval: 500 };
/** graphile-worker: jobs at once; the batched variant adds a local queue and batched completion. */
export const GRAPHILE = { concurrency: 24, localQueue: 500, batchDelay: 10 };

/**
 * @typedef {object} System
 * @property {string} id
 * @property {string} label shown in tables
 * @property {string} config one-line description of the configuration
 * @property {boolean} ours
 * @property {'postgres'|'mariadb'|'sqlite'} db
 * @property {string} script child script, relative to `bench/`
 * @property {Record<string,string>} env worker configuration
 * @property {string|null} table the job table (start gate)
 * @property {string} doneSql one number that rises by one for every finished job
 * @property {(processes: number) => Record<string,string>} [perProcessEnv] worker settings that
 *   depend on how many worker processes share the work
 */

const oursEnv = (db) => ({
  BENCH_DB: db,
  BENCH_BATCH: String(OURS.batchSize),
  BENCH_CONCURRENCY: String(OURS.concurrency),
  BENCH_POLL: String(OURS.pollingInterval),
});

/**
 * Ours: minus the number of jobs due now and not finished (the benchmark's jobs have priority 0 and
 * never fail), read through the claim and lease indexes, so that a poll costs little however many
 * finished or future rows the table holds (counting completed rows would read the whole table: no
 * index holds completed rows but the primary key and the finished index). `nowMs` must be stable
 * within a statement (PostgreSQL: `statement_timestamp()`, not the volatile `clock_timestamp()`),
 * or it cannot bound the index range.
 */
const oursDoneSql = (nowMs) =>
  `SELECT -((SELECT count(*) FROM scheduled_commands WHERE status = 'processing')
    + (SELECT count(*) FROM scheduled_commands
       WHERE status = 'pending' AND priority = 0 AND scheduled_for <= ${nowMs})) AS done`;

/** Every system, by id. */
export const SYSTEMS = {
  'ours-pg': {
    id: 'ours-pg',
    label: 'ours (PostgreSQL)',
    config: `batchSize ${OURS.batchSize}, concurrency ${OURS.concurrency}, pollingInterval ${OURS.pollingInterval} ms`,
    ours: true,
    db: 'postgres',
    script: 'worker.mjs',
    env: oursEnv('postgres'),
    table: 'scheduled_commands',
    doneSql: oursDoneSql(`FLOOR(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint`),
  },
  'ours-mariadb': {
    id: 'ours-mariadb',
    label: 'ours (MariaDB)',
    config: `batchSize ${OURS.batchSize}, concurrency ${OURS.concurrency}, pollingInterval ${OURS.pollingInterval} ms`,
    ours: true,
    db: 'mariadb',
    script: 'worker.mjs',
    env: oursEnv('mariadb'),
    table: 'scheduled_commands',
    doneSql: oursDoneSql(MYSQL_NOW_MS),
  },
  'ours-sqlite': {
    id: 'ours-sqlite',
    label: 'ours (SQLite)',
    config: `batchSize ${OURS.batchSize}, concurrency ${OURS.concurrency}, pollingInterval ${OURS.pollingInterval} ms, WAL`,
    ours: true,
    db: 'sqlite',
    script: 'worker.mjs',
    env: oursEnv('sqlite'),
    table: null,
    doneSql: oursDoneSql(`CAST(unixepoch('subsec') * 1000 AS INTEGER)`),
  },
  pgboss: {
    id: 'pgboss',
    label: 'pg-boss 10',
    config: `${PGBOSS.workers} workers, batchSize ${PGBOSS.batchSize}, pollingInterval ${PGBOSS.pollingInterval} ms`,
    ours: false,
    db: 'postgres',
    script: 'peers/pg-boss.mjs',
    env: {
      BENCH_WORKERS: String(PGBOSS.workers),
      BENCH_BATCH: String(PGBOSS.batchSize),
      BENCH_POLL: String(PGBOSS.pollingInterval),
    },
    // Spread over several processes, the same four work() loops in all: more loops, each
    // skipping the rows the others hold locked, made pg-boss slower here, not faster.
    perProcessEnv: (processes) => ({
      BENCH_WORKERS: String(Math.max(1, Math.round(PGBOSS.workers / processes))),
    }),
    table: 'pgboss.job',
    doneSql: `SELECT count(*) AS done FROM pgboss.job WHERE name = 'bench-noop' AND state = 'completed'`,
  },
  graphile: {
    id: 'graphile',
    label: 'graphile-worker 0.17',
    config: `concurrency ${GRAPHILE.concurrency}`,
    ours: false,
    db: 'postgres',
    script: 'peers/graphile-worker.mjs',
    env: { BENCH_CONCURRENCY: String(GRAPHILE.concurrency) },
    table: 'graphile_worker._private_jobs',
    // Completed jobs are deleted: the figure rises by one per completion, like the others.
    doneSql: `SELECT -count(*) AS done FROM graphile_worker._private_jobs`,
  },
  'graphile-batched': {
    id: 'graphile-batched',
    label: 'graphile-worker 0.17 batched',
    config: `concurrency ${GRAPHILE.concurrency}, localQueue ${GRAPHILE.localQueue}, complete/failJobBatchDelay ${GRAPHILE.batchDelay} ms`,
    ours: false,
    db: 'postgres',
    script: 'peers/graphile-worker.mjs',
    env: {
      BENCH_CONCURRENCY: String(GRAPHILE.concurrency),
      BENCH_LOCAL_QUEUE: String(GRAPHILE.localQueue),
      BENCH_BATCH_DELAY: String(GRAPHILE.batchDelay),
    },
    table: 'graphile_worker._private_jobs',
    doneSql: `SELECT -count(*) AS done FROM graphile_worker._private_jobs`,
  },
};

/** Display name of the database of `system`. */
export const databaseName = (system) =>
  ({ postgres: 'PostgreSQL', mariadb: 'MariaDB', sqlite: 'SQLite' })[system.db];

/**
 * A fresh, empty store for `system`: a new PostgreSQL or MariaDB database (or SQLite file) on the
 * server of `serverUrl` (`{ postgres, mariadb }` URLs, or one PostgreSQL URL) with its schema
 * installed by a `setup` process, which stays up to schedule (a client without a worker).
 * Returns `{ url, client, query(sql), close() }`; `close()` stops the client and drops the store.
 */
export async function freshStore(system, serverUrl, label, extraEnv = {}) {
  let url;
  let drop;
  let query;
  let closeQuery = async () => undefined;
  if (system.db === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sqlite-'));
    url = path.join(dir, 'bench.sqlite');
    drop = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else if (system.db === 'mariadb') {
    const db = await createMysqlDatabase(serverFor(system, serverUrl), `${system.id}_${label}`);
    url = db.url;
    drop = db.drop;
  } else {
    const db = await createDatabase(serverFor(system, serverUrl), `${system.id}_${label}`);
    url = db.url;
    drop = db.drop;
  }
  const client = new Child(system.script, {
    name: `${system.id} setup`,
    env: { ...system.env, ...extraEnv, BENCH_ROLE: 'setup', BENCH_URL: url },
  });
  await client.waitFor('ready', 120_000);
  if (system.db === 'sqlite') {
    // Opened on first use, once the setup process has created the file and switched it to WAL.
    let sqlite;
    query = async (sql) => {
      sqlite ??= new Database(url, { readonly: true, timeout: 5_000 });
      return sqlite.prepare(sql).get();
    };
    closeQuery = async () => sqlite?.close();
  } else if (system.db === 'mariadb') {
    query = (sql) => withMysql(url, (c) => firstRow(c, sql));
  } else {
    query = (sql) => withClient(url, async (c) => (await c.query(sql)).rows[0]);
  }
  return {
    url,
    client,
    query,
    async close() {
      await client.stop();
      await closeQuery();
      await drop();
    },
  };
}

/**
 * The server URL of `system`'s database: `servers` is one PostgreSQL URL, or `{ postgres, mariadb }`.
 * @throws Error when no server of that kind was started.
 */
export function serverFor(system, servers) {
  if (typeof servers === 'string') {
    if (system.db === 'mariadb') throw new Error(`no MariaDB server for ${system.id}`);
    return servers;
  }
  const url = servers[system.db];
  if (!url) throw new Error(`no ${system.db} server for ${system.id}`);
  return url;
}

/** Spawns one worker process of `system` on `url` (`role` `both` also schedules). */
export function workerProcess(
  system,
  url,
  { name, env = {}, nodeArgs = [], role = 'worker' } = {},
) {
  return new Child(system.script, {
    name: name ?? `${system.id} ${role}`,
    env: { ...system.env, ...env, BENCH_ROLE: role, BENCH_URL: url },
    nodeArgs,
  });
}
