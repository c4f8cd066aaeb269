/**
 * MariaDB/MySQL utilities of the benchmark runner, the counterparts of `db.mjs`: one database per
 * system and scenario on the throw-away MariaDB server, a table-lock start gate, jobs written
 * straight into our table, and the CPU time of the server process.
 */
import fs from 'node:fs';
import mysql from 'mysql2/promise';
import { cpuMs } from './cpu.mjs';
import { databaseUrl } from './db.mjs';
import { uuidv7 } from './job-sql.mjs';
import { now, sleep } from './processes.mjs';

/** The database clock in epoch milliseconds, as the store reads it. */
export const MYSQL_NOW_MS = `(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3)) DIV 1000)`;

/** Runs `fn(connection)` on a fresh connection to `url`. */
export async function withMysql(url, fn) {
  const connection = await mysql.createConnection({ uri: url });
  try {
    return await fn(connection);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** The first row of `sql` on `connection`. */
export async function firstRow(connection, sql) {
  const [rows] = await connection.query(sql);
  return rows[0];
}

let counter = 0;

/** Creates an empty database with a unique name based on `label`; returns its URL and a `drop()`. */
export async function createMysqlDatabase(serverUrl, label) {
  const name = `bench_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${++counter}`;
  await withMysql(serverUrl, (c) => c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`));
  return {
    name,
    url: databaseUrl(serverUrl, name),
    drop: () =>
      withMysql(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name}`)).catch(
        () => undefined,
      ),
  };
}

/**
 * Start gate: `LOCK TABLES <table> WRITE` on one connection, so that workers boot and block on
 * their first statement on the table. Rows that connection inserts are seen by the others only
 * once `open()` has unlocked it; `open()` returns the time it did.
 */
export async function lockMysqlTable(url, table) {
  const connection = await mysql.createConnection({ uri: url });
  await connection.query(`LOCK TABLES ${table} WRITE`);
  return {
    /** Inserts jobs while the lock is held (see {@link insertJobsMysql}). */
    insertJobs: (options) => insertJobsMysql(connection, options),
    async open() {
      await connection.query('UNLOCK TABLES');
      const t = now();
      await connection.end().catch(() => undefined);
      return t;
    },
    async abort() {
      await connection.query('UNLOCK TABLES').catch(() => undefined);
      await connection.end().catch(() => undefined);
    },
  };
}

/** Rows per INSERT statement (about 150 bytes each: well under the default max_allowed_packet). */
const ROWS_PER_STATEMENT = 5_000;

/**
 * Inserts `count` jobs into our `scheduled_commands` on `connection`, as the scheduler writes them:
 * due `firstDueMs` from now, then one every `spacingMs`, numbered from `startSeq`, with UUIDv7 ids
 * one millisecond apart that start `idsBeforeNowMs` before now (the default: all in the past).
 * The rows are made here and sent as multi-row `INSERT`s (valid on MySQL and MariaDB alike).
 */
export async function insertJobsMysql(
  connection,
  { count, firstDueMs, spacingMs, startSeq, idsBeforeNowMs = count },
) {
  const ms = Date.now();
  for (let from = 0; from < count; from += ROWS_PER_STATEMENT) {
    const rows = [];
    for (let i = from; i < Math.min(count, from + ROWS_PER_STATEMENT); i++) {
      rows.push([
        uuidv7(ms - idsBeforeNowMs + i),
        'bench-noop',
        `{"seq":${startSeq + i}}`,
        'pending',
        ms + firstDueMs + i * spacingMs,
        0,
        0,
        3,
        0,
        ms,
      ]);
    }
    await connection.query(
      `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority,
         retry_count, max_retries, attempts, created_at) VALUES ?`,
      [rows],
    );
  }
}

/**
 * Polls `sql` (one row, one numeric column) every 5 ms until it returns `target` or more, and
 * returns the time of the first poll that saw it.
 */
export async function pollMysqlUntil(url, sql, target, timeoutMs = 600_000) {
  return withMysql(url, async (c) => {
    const deadline = now() + timeoutMs;
    for (;;) {
      const value = Number(Object.values(await firstRow(c, sql))[0]);
      const t = now();
      if (value >= target) return t;
      if (t > deadline)
        throw new Error(`timed out waiting for: ${sql} >= ${target} (last ${value})`);
      await sleep(5);
    }
  });
}

/**
 * CPU milliseconds so far of the MariaDB server process listening on the port of `url` (one
 * process with a thread per connection: the whole server, which serves only the benchmark), keyed
 * by its pid as `backendCpu` does; `null` off Linux or when it is not found.
 */
export function mysqlServerCpu(url) {
  if (process.platform !== 'linux') return null;
  const port = new URL(url).port;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args;
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (/(mariadbd|mysqld)$/.test(args[0]) && args.includes(`--port=${port}`)) {
      const ms = cpuMs(Number(pid));
      return ms === null ? null : { [pid]: ms };
    }
  }
  return null;
}
