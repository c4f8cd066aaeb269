/**
 * The store's operations on MySQL 8.0.1+ and MariaDB 10.6+. Neither server can write and return
 * rows in one statement (no `UPDATE ... RETURNING`, no `UPDATE ... SKIP LOCKED`, no CTE before an
 * `UPDATE` on MariaDB), so each write is a short transaction at READ COMMITTED (see
 * `mysql-server.ts`), retried when InnoDB picks it as a deadlock victim:
 *
 * 1. lock the target rows with a locking `SELECT` (`FOR UPDATE SKIP LOCKED` where concurrent
 *    workers compete for rows, `FOR UPDATE` where the rows are named by id);
 * 2. update (or delete) exactly those rows, by primary key, under the same guard;
 * 3. read them back when the operation returns them.
 *
 * The rows stay locked from 1 to the commit, so the write is as atomic and conditional as the one
 * statement of the other dialects, and returns what that statement returns. Reads are the shared
 * statements, with `?` parameters and backticks (see `MysqlDialect.bind`).
 */
import type { ScheduledCommandStatus } from '../../scheduled-command-entry.js';
import { statusList } from '../find-query.js';
import {
  CLAIM_RETURNING,
  COMPLETION_COLUMNS,
  LEASE_COLUMNS,
  NEW_COMMAND_COLUMNS,
  RETURNING,
  type Row,
} from '../row-codec.js';
import { TABLE_COLUMNS } from '../scheduled-commands-table.js';
import { countByStatusSql, getSql, statisticsSql } from '../sql/query-sql.js';
import { NEW_ROW_VALUES } from '../sql/schedule-sql.js';
import { oneStatement, type StoreStatement, type StoreStatements } from '../sql/store-statement.js';
import type { StatementResult, StatementRunner } from '../statement-executor.js';
import { LIVE_KEY_COLUMN } from '../migrations/mysql-schema.js';
import type { JsonColumn } from './sql-dialect.js';

/** What the statements need from the dialect. */
export interface MysqlStatementContext {
  jsonRows(param: string, columns: readonly JsonColumn[]): string;
}

const result = (rows: Row[]): StatementResult => ({ rows, affected: rows.length });
const idsOf = (rows: readonly Row[]): string[] => rows.map((row) => String(row.id));

/** An operation run as one transaction (or inside the caller's) by `body`. */
function transaction(
  body: (tx: StatementRunner, params: readonly unknown[]) => Promise<StatementResult>,
): StoreStatement {
  return { run: (runner, params) => runner.transaction((tx) => body(tx, params)) };
}

/**
 * Locks rows with `lock` (its rows: `id`, and `v_now`, the clock the statements share), then runs
 * `write` on their ids (`write`'s parameters: `params` built from the ids and the time), and
 * reads them back when `readBack` is given. Returns what was read back, or the write's count.
 */
async function lockWriteRead(
  tx: StatementRunner,
  lock: { sql: string; params: readonly unknown[] },
  write: { sql: string; params: (ids: string[], now: number) => unknown[] },
  readBack: string | null,
): Promise<StatementResult> {
  const locked = (await tx.execute(lock.sql, lock.params)).rows;
  if (locked.length === 0) return result([]);
  const ids = idsOf(locked);
  const { affected } = await tx.execute(write.sql, write.params(ids, Number(locked[0].v_now)));
  if (readBack === null) return { rows: [], affected };
  return tx.execute(readBack, [ids]);
}

/**
 * The claim (`$1` worker, `$2` limit, `$3` lease ms, `$4` the `scheduledFrom` hint). The claim
 * order `priority DESC, scheduled_for, id` cannot be read from one ascending index, so the claim
 * walks the priorities from the client, highest first: each priority's due rows come from its own
 * range of the claim index, in index order, locked with `SKIP LOCKED` so that concurrent claims
 * skip each other's rows; the next lower priority is found with an index-only `MAX`. The first
 * `MAX` runs outside the transaction: an idle poll is one statement.
 */
function claimStatement(table: string): StoreStatement {
  const top = `SELECT MAX(priority) AS v_p FROM ${table} WHERE status = 'pending'`;
  const below = `${top} AND priority < $1`;
  const due = `SELECT ${CLAIM_RETURNING}, $now AS v_now FROM ${table}
      WHERE status = 'pending' AND priority = $1 AND scheduled_for >= $2 AND scheduled_for <= $now
        AND (expires_at IS NULL OR expires_at > $now)
      ORDER BY scheduled_for, id LIMIT $3 FOR UPDATE SKIP LOCKED`;
  const take = `UPDATE ${table}
      SET status = 'processing', locked_by = $1, locked_until = $2 + $3, started_at = $2,
          attempts = attempts + 1
      WHERE id IN ($4)`;
  return {
    async run(runner, [workerId, limit, leaseMs, from]) {
      const highest = (await runner.execute(top, [])).rows[0]?.v_p ?? null;
      if (highest === null) return result([]);
      return runner.transaction(async (tx) => {
        const picked: Row[] = [];
        let priority: unknown = highest;
        while (priority !== null && picked.length < Number(limit)) {
          const params = [priority, from, Number(limit) - picked.length];
          picked.push(...(await tx.execute(due, params)).rows);
          if (picked.length >= Number(limit)) break;
          priority = (await tx.execute(below, [priority])).rows[0]?.v_p ?? null;
        }
        if (picked.length === 0) return result([]);
        // One time for the whole claim: that of the first rows locked.
        const now = Number(picked[0].v_now);
        await tx.execute(take, [workerId, now, leaseMs, idsOf(picked)]);
        for (const row of picked) {
          row.attempts = Number(row.attempts) + 1;
          row.started_at = now;
        }
        return result(picked);
      });
    },
  };
}

/**
 * A batch update under leases (`$1`: the batch, a JSON array of objects with `columns`): locks the
 * rows still held under those leases, then updates them (`assignments` may read the batch row `v`).
 * Rows are found by primary key from the batch. Returns the ids updated.
 */
function leaseUpdate(
  table: string,
  context: MysqlStatementContext,
  columns: readonly JsonColumn[],
  assignments: string,
): StoreStatement {
  const from = `${table} t JOIN ${context.jsonRows('$1', columns)} ON t.id = v.v_id`;
  const guard = `t.status = 'processing' AND t.locked_by = v.v_worker AND t.attempts = v.v_attempt`;
  const lock = `SELECT t.id FROM ${from} WHERE ${guard} FOR UPDATE`;
  const update = `UPDATE ${from} SET ${assignments} WHERE ${guard}`;
  return transaction(async (tx, params) => {
    const locked = await tx.execute(lock, params);
    if (locked.rows.length > 0) await tx.execute(update, params);
    return locked;
  });
}

/**
 * A write of one row by id (`$1`, then the parameters of `update`, which has `WHERE id = $1 AND`
 * its guard); returns the row as written, or nothing when the guard did not hold.
 */
function rowUpdate(table: string, update: string): StoreStatement {
  const readBack = getSql(table);
  return transaction(async (tx, params) => {
    const { affected } = await tx.execute(update, params);
    return affected > 0 ? tx.execute(readBack, [params[0]]) : result([]);
  });
}

/** The rows with the ids in `$1` (a list), every column. */
const byIds = (table: string): string => `SELECT ${RETURNING} FROM ${table} WHERE id IN ($1)`;

/**
 * Lease recovery (`$1` limit, `$2`/`$3` the message around the worker's name): processing rows
 * whose lease ran out go back to pending with a retry, or fail after their last attempt.
 */
function recoverStatement(table: string): StoreStatement {
  const last = 'attempts > max_retries';
  const lock = `SELECT id, $now AS v_now FROM ${table}
      WHERE status = 'processing' AND locked_until <= $now
      ORDER BY locked_until LIMIT $1 FOR UPDATE SKIP LOCKED`;
  // Assigned left to right: the message reads locked_by before it is cleared.
  const update = `UPDATE ${table}
      SET error_message = CONCAT($1, COALESCE(locked_by, 'unknown'), $2),
          status = CASE WHEN ${last} THEN 'failed' ELSE 'pending' END,
          completed_at = CASE WHEN ${last} THEN $3 ELSE NULL END,
          retry_count = CASE WHEN ${last} THEN retry_count ELSE retry_count + 1 END,
          scheduled_for = CASE WHEN ${last} THEN scheduled_for ELSE $3 END,
          locked_by = NULL, locked_until = NULL
      WHERE id IN ($4) AND status = 'processing'`;
  return transaction((tx, [limit, before, after]) =>
    lockWriteRead(
      tx,
      { sql: lock, params: [limit] },
      { sql: update, params: (ids, now) => [before, after, now, ids] },
      byIds(table),
    ),
  );
}

/** The expiry sweep (`$1` limit): pending rows whose expiry time has come become expired. */
function expireStatement(table: string): StoreStatement {
  const lock = `SELECT id, $now AS v_now FROM ${table}
      WHERE status = 'pending' AND expires_at <= $now
      ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`;
  const update = `UPDATE ${table} SET status = 'expired', completed_at = $1
      WHERE id IN ($2) AND status = 'pending'`;
  return transaction((tx, [limit]) =>
    lockWriteRead(
      tx,
      { sql: lock, params: [limit] },
      { sql: update, params: (ids, now) => [now, ids] },
      byIds(table),
    ),
  );
}

/** Deletes up to `$2` rows in `statuses` that finished before `$1`, oldest first. */
export function mysqlPurge(
  table: string,
  statuses: readonly ScheduledCommandStatus[],
): StoreStatement {
  const list = statusList(statuses);
  const lock = `SELECT id, 0 AS v_now FROM ${table}
      WHERE completed_at IS NOT NULL AND completed_at < $1 AND status IN (${list})
      ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED`;
  const remove = `DELETE FROM ${table} WHERE id IN ($1) AND status IN (${list})`;
  return transaction((tx, params) =>
    lockWriteRead(tx, { sql: lock, params }, { sql: remove, params: (ids) => [ids] }, null),
  );
}

/**
 * Requeues the rows `candidates` selects (its parameters from `$1`) while their status is in
 * `statuses` and no live entry holds their idempotency key. A key taken by a concurrent insert
 * after the check fails the update on the unique index (the store runs it again).
 */
export function mysqlRequeue(
  table: string,
  candidates: string,
  statuses: readonly ScheduledCommandStatus[],
): StoreStatement {
  const lock = `SELECT t.id, $now AS v_now FROM ${table} t
      WHERE t.id IN ($1) AND t.status IN (${statusList(statuses)})
        AND (t.idempotency_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM ${table} o WHERE o.${LIVE_KEY_COLUMN} = t.idempotency_key))
      FOR UPDATE`;
  const update = `UPDATE ${table}
      SET status = 'pending', scheduled_for = $1, retry_count = 0, expires_at = NULL,
          completed_at = NULL, result_payload = NULL, locked_by = NULL, locked_until = NULL
      WHERE id IN ($2)`;
  return transaction(async (tx, params) => {
    const wanted = idsOf((await tx.execute(candidates, params)).rows.map((r) => ({ id: r.v_id })));
    if (wanted.length === 0) return result([]);
    return lockWriteRead(
      tx,
      { sql: lock, params: [wanted] },
      { sql: update, params: (ids, now) => [now, ids] },
      byIds(table),
    );
  });
}

/**
 * Inserts the new commands of `$1`, skipping those whose idempotency key a live entry holds (the
 * unique index on the generated live-key column; `ON DUPLICATE KEY UPDATE id = id` changes
 * nothing), then reads back which were inserted. The affected-row count cannot tell: `mysql2`
 * connects with `CLIENT_FOUND_ROWS`.
 */
function insertStatement(table: string, context: MysqlStatementContext): StoreStatement {
  const columns = TABLE_COLUMNS.map((column) => column.name);
  const batch = context.jsonRows('$1', [{ name: 'v_id', type: 'text' }]);
  const insert = `INSERT INTO ${table} (${columns.join(', ')})
      SELECT ${columns.map((name) => NEW_ROW_VALUES[name]).join(', ')}
      FROM ${context.jsonRows('$1', NEW_COMMAND_COLUMNS)}
      ON DUPLICATE KEY UPDATE id = id`;
  const inserted = `SELECT t.id FROM ${table} t JOIN ${batch} ON t.id = v.v_id`;
  return transaction(async (tx, params) => {
    await tx.execute(insert, params);
    return tx.execute(inserted, params);
  });
}

/** Builds the {@link StoreStatements} of `table` (quoted with backticks) for MySQL/MariaDB. */
export function mysqlStatements(table: string, context: MysqlStatementContext): StoreStatements {
  const single = (set: string, guard: string) =>
    rowUpdate(table, `UPDATE ${table} SET ${set} WHERE id = $1 AND ${guard}`);
  const leased = `status = 'processing' AND locked_by = $2 AND attempts = $3`;
  const released = 'locked_by = NULL, locked_until = NULL';
  return {
    insert: insertStatement(table, context),
    keyHolders: oneStatement(`SELECT id, idempotency_key FROM ${table}
      WHERE ${LIVE_KEY_COLUMN} IN (SELECT v_key FROM ${context.jsonRows('$1', [{ name: 'v_key', type: 'text' }])})`),
    reschedule: single(`scheduled_for = COALESCE($2, $now + $3)`, `status = 'pending'`),
    cancel: single(`status = 'cancelled', completed_at = $now`, `status = 'pending'`),
    claim: claimStatement(table),
    complete: leaseUpdate(
      table,
      context,
      COMPLETION_COLUMNS,
      `t.status = 'completed', t.completed_at = $now, t.result_payload = v.v_result,
        t.locked_by = NULL, t.locked_until = NULL`,
    ),
    release: leaseUpdate(
      table,
      context,
      LEASE_COLUMNS,
      `t.status = 'pending', t.attempts = t.attempts - 1, t.started_at = NULL,
        t.locked_by = NULL, t.locked_until = NULL`,
    ),
    extendLeases: leaseUpdate(table, context, LEASE_COLUMNS, `t.locked_until = $now + $2`),
    retry: single(
      `status = 'pending', retry_count = retry_count + 1, scheduled_for = $now + $4,
          error_message = $5, ${released}`,
      leased,
    ),
    deadLetter: single(
      `status = 'failed', completed_at = $now, error_message = $4, ${released}`,
      leased,
    ),
    recoverExpiredLeases: recoverStatement(table),
    expireDue: expireStatement(table),
    nextDue: oneStatement(`SELECT MIN(v_first) - $now AS v_ms FROM (
        SELECT MIN(scheduled_for) AS v_first FROM ${table} WHERE status = 'pending' GROUP BY priority
      ) f`),
    get: oneStatement(getSql(table)),
    countByStatus: oneStatement(countByStatusSql(table)),
    statistics: oneStatement(statisticsSql(table)),
  };
}
