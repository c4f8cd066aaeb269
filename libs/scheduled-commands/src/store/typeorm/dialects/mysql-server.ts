import { UnsupportedDatabaseError } from '../../../errors/unsupported-database.error.js';
import { messages } from '../../../scheduled-commands.messages.js';

/**
 * What the MySQL/MariaDB dialect needs from its server, checked once at start-up, and the few
 * server facts its statements rely on (the clock, the error numbers, the isolation level).
 */

/**
 * The database clock in epoch milliseconds. `UTC_TIMESTAMP(3)` does not depend on the session's
 * time zone (`UNIX_TIMESTAMP(NOW(3))` would, and is ambiguous in the hour a daylight saving time
 * ends), and like every current-time function of MySQL and MariaDB it is read once per statement:
 * every comparison and every time written by one statement agree.
 */
export const MYSQL_NOW_MS = `(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3)) DIV 1000)`;

/**
 * The isolation level of every transaction the store starts, set on the transaction itself so that
 * the server's or the pool's default does not matter. At REPEATABLE READ, InnoDB's next-key locks
 * make a claim's `SELECT ... FOR UPDATE SKIP LOCKED` over the claim index and a concurrent
 * `INSERT` into the same range deadlock each other; READ COMMITTED takes no gap locks there.
 */
export const MYSQL_ISOLATION_LEVEL = 'READ COMMITTED';

/** `ER_LOCK_DEADLOCK`: InnoDB chose this transaction as a deadlock victim and rolled it back. */
export const ER_LOCK_DEADLOCK = 1213;
/** `ER_DUP_ENTRY`: a unique index rejected the row. */
export const ER_DUP_ENTRY = 1062;

/** Oldest supported releases: the first with `FOR UPDATE SKIP LOCKED` (and `JSON_TABLE`). */
export const MINIMUM_VERSIONS = {
  mariadb: [10, 6, 0],
  mysql: [8, 0, 1],
} as const satisfies Record<string, readonly [number, number, number]>;

/** A server release as reported by `SELECT VERSION()`. */
export interface ServerVersion {
  readonly flavor: keyof typeof MINIMUM_VERSIONS;
  readonly version: readonly [number, number, number];
  /** The string the server reported. */
  readonly raw: string;
}

/**
 * Reads `SELECT VERSION()`: `10.11.6-MariaDB-0+deb12u1` or `5.5.5-10.11.6-MariaDB` (the old
 * replication prefix) is MariaDB; `8.0.36`, `8.4.0-log` or `8.0.35-27` (Percona) is MySQL.
 * Returns undefined when no `major.minor.patch` can be found.
 */
export function parseServerVersion(raw: string): ServerVersion | undefined {
  const flavor = /mariadb/i.test(raw) ? 'mariadb' : 'mysql';
  const text = flavor === 'mariadb' ? raw.replace(/^5\.5\.5-/, '') : raw;
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (!match) return undefined;
  return { flavor, version: [+match[1], +match[2], +match[3]], raw };
}

const atLeast = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
};

/**
 * Throws unless `raw` names MariaDB 10.6+ or MySQL 8.0.1+.
 * @throws {UnsupportedDatabaseError} with `setting` `'version'`
 */
export function assertSupportedVersion(raw: string): ServerVersion {
  const parsed = parseServerVersion(raw);
  if (parsed && atLeast(parsed.version, MINIMUM_VERSIONS[parsed.flavor])) return parsed;
  const required = 'MariaDB 10.6+ or MySQL 8.0.1+';
  throw new UnsupportedDatabaseError(
    'version',
    raw,
    messages.unsupportedServerVersion(
      `${parsed?.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${raw}`,
      required,
    ),
  );
}

/**
 * Throws when the server's settings forbid the store's READ COMMITTED transactions: with the
 * binary log on and `binlog_format=STATEMENT`, InnoDB refuses every write at READ COMMITTED.
 * `variables` maps lower-case variable names to their values (`SHOW VARIABLES`).
 * @throws {UnsupportedDatabaseError} with `setting` `'binlog_format'`
 */
export function assertSupportedSettings(variables: Readonly<Record<string, string>>): void {
  const binlogOn = /^(on|1)$/i.test(variables.log_bin ?? '');
  const format = (variables.binlog_format ?? '').toUpperCase();
  if (binlogOn && format === 'STATEMENT') {
    throw new UnsupportedDatabaseError(
      'binlog_format',
      format,
      messages.unsafeBinlogFormat(format),
    );
  }
}

/** Runs one statement and returns its rows. */
export type RowQuery = (sql: string) => Promise<Record<string, unknown>[]>;

/**
 * The start-up check: the server's version and the settings the store's transactions need.
 * @throws {UnsupportedDatabaseError} when either is unsupported
 */
export async function inspectServer(query: RowQuery): Promise<ServerVersion> {
  const [row] = await query('SELECT VERSION() AS version');
  const version = assertSupportedVersion(String(row?.version ?? ''));
  const rows = await query(`SHOW VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format')`);
  assertSupportedSettings(
    Object.fromEntries(
      rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)] as const),
    ),
  );
  return version;
}

/** The MySQL error number of `error` (a driver error, or TypeORM's `QueryFailedError` around one). */
export function mysqlErrno(error: unknown): number | undefined {
  const e = error as { errno?: unknown; driverError?: { errno?: unknown } } | null;
  const errno = e?.errno ?? e?.driverError?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

/** Counts the deadlocks that {@link retryOnDeadlock} retried, and those it gave up on. */
export interface DeadlockCounter {
  retried: number;
  gaveUp: number;
}

/** Attempts of a transaction that InnoDB keeps choosing as a deadlock victim, before giving up. */
export const DEADLOCK_ATTEMPTS = 5;

/**
 * Runs `transaction` (which must be safe to run again: InnoDB rolled the whole transaction back),
 * again after a short random pause while it fails with a deadlock, at most `attempts` times in all.
 * Every retry and every final failure is counted in `counter`.
 * @throws the last deadlock error once `attempts` are used up, and any other error at once
 */
export async function retryOnDeadlock<T>(
  transaction: () => Promise<T>,
  counter: DeadlockCounter,
  attempts = DEADLOCK_ATTEMPTS,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (mysqlErrno(error) !== ER_LOCK_DEADLOCK) throw error;
      if (attempt >= attempts) {
        counter.gaveUp++;
        throw error;
      }
      counter.retried++;
      // A random pause that grows with each attempt keeps the two victims from meeting again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
