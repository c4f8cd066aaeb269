import { ScheduledCommandsError } from '../../errors/index.js';
import type {
  NewScheduledCommand,
  ScheduledCommandEntry,
  ScheduleResult,
} from '../scheduled-command-entry.js';
import type { SqlDialect } from './dialects/sql-dialect.js';
import { newRow, toEntry } from './row-codec.js';
import type { StoreStatement } from './sql/store-statement.js';
import type { StatementExecutor, StatementRunner } from './statement-executor.js';

/** Rows per statement in batch writes (every batch travels as one JSON parameter). */
export const BATCH_SIZE = 1000;
/** Rounds of "insert, then look up the key holders" before `schedule` gives up. */
const MAX_SCHEDULE_ROUNDS = 10;
/** Attempts of a requeue that lost a race for an idempotency key against a concurrent insert. */
const MAX_REQUEUE_ATTEMPTS = 3;

/**
 * {@link updateLeaseBatches} for `items`; a batch larger than one statement carries runs in one
 * transaction: all of it is written, or none of it.
 */
export function updateLeasesAtomically<T>(
  executor: StatementExecutor,
  statement: StoreStatement,
  items: readonly T[],
  row: (item: T) => Record<string, unknown>,
  extraParams: readonly unknown[],
): Promise<string[]> {
  const updateAll = (runner: StatementRunner) =>
    updateLeaseBatches(runner, statement, items, row, extraParams);
  return items.length > BATCH_SIZE ? executor.transaction(updateAll) : updateAll(executor);
}

/**
 * Runs the requeue `statement`. A concurrent insert may take a key between the check and the write;
 * the unique index then rejects the statement and it runs again, now seeing the new holder.
 */
export async function requeueRetryingKeyRaces(
  executor: StatementExecutor,
  dialect: SqlDialect,
  statement: StoreStatement,
  params: readonly unknown[],
): Promise<ScheduledCommandEntry[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await statement.run(executor, params)).rows.map((row) => toEntry(row));
    } catch (error) {
      if (!dialect.isUniqueViolation(error) || attempt >= MAX_REQUEUE_ATTEMPTS) throw error;
    }
  }
}

/**
 * Runs the lease update `statement` (its `$1` the batch, `extraParams` after it) for `items`, at most
 * {@link BATCH_SIZE} per statement, with `row` giving each item's JSON object; returns the ids updated.
 */
export async function updateLeaseBatches<T>(
  runner: StatementRunner,
  statement: StoreStatement,
  items: readonly T[],
  row: (item: T) => Record<string, unknown>,
  extraParams: readonly unknown[],
): Promise<string[]> {
  const done: string[] = [];
  for (let offset = 0; offset < items.length; offset += BATCH_SIZE) {
    const batch = items.length <= BATCH_SIZE ? items : items.slice(offset, offset + BATCH_SIZE);
    const { rows } = await statement.run(runner, [
      JSON.stringify(batch.map((item) => row(item))),
      ...extraParams,
    ]);
    for (const updated of rows) done.push(String(updated.id));
  }
  return done;
}

/** The insert and key-holder statements of {@link insertCommands}. */
export interface InsertStatements {
  readonly insert: StoreStatement;
  readonly keyHolders: StoreStatement;
}

/**
 * Inserts `commands`, at most {@link BATCH_SIZE} per statement; returns their results in input
 * order (see {@link insertChunk}).
 */
export async function insertCommands(
  runner: StatementRunner,
  sql: InsertStatements,
  commands: readonly NewScheduledCommand[],
): Promise<ScheduleResult[]> {
  const results: ScheduleResult[] = new Array(commands.length);
  for (let offset = 0; offset < commands.length; offset += BATCH_SIZE) {
    const chunk = commands.slice(offset, offset + BATCH_SIZE);
    await insertChunk(runner, sql, chunk, offset, results);
  }
  return results;
}

/**
 * Inserts a batch, skipping commands whose key is held on the live-idempotency-key index, then reads the
 * holders of the keys that were taken. A holder may finish between the two statements (the key is
 * free again): those commands go round once more.
 */
async function insertChunk(
  runner: StatementRunner,
  sql: InsertStatements,
  batch: readonly NewScheduledCommand[],
  offset: number,
  results: ScheduleResult[],
): Promise<void> {
  let waiting = batch.map((command, index) => ({ command, index: offset + index }));
  for (let round = 1; waiting.length > 0; round++) {
    if (round > MAX_SCHEDULE_ROUNDS) {
      throw new ScheduledCommandsError(
        `Could not schedule ${waiting.length} command(s): their idempotency keys kept changing hands.`,
      );
    }
    const { rows } = await sql.insert.run(runner, [
      JSON.stringify(waiting.map((w) => newRow(w.command))),
    ]);
    const inserted = new Set(rows.map((r) => String(r.id)));
    const skipped = waiting.filter((w) => {
      if (!inserted.has(w.command.id)) return true;
      results[w.index] = { id: w.command.id, created: true };
      return false;
    });
    if (skipped.length === 0) return;
    const keys = [...new Set(skipped.map((w) => w.command.idempotencyKey))];
    if (keys.some((key) => key === null)) {
      // Only the idempotency index is a DO NOTHING target; anything else raised an error.
      throw new ScheduledCommandsError('A command without an idempotency key was not inserted.');
    }
    const holders = await sql.keyHolders.run(runner, [
      JSON.stringify(keys.map((key) => ({ v_key: key }))),
    ]);
    const holderOf = new Map(holders.rows.map((r) => [String(r.idempotency_key), String(r.id)]));
    waiting = skipped.filter((w) => {
      const holder = holderOf.get(w.command.idempotencyKey as string);
      if (holder === undefined) return true;
      results[w.index] = { id: holder, created: false };
      return false;
    });
  }
}
