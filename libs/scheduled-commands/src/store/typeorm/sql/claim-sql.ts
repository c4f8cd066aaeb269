/**
 * The claim: the one statement every worker runs on every poll. Its shape is the dialect's (see
 * `OneStatementDialect.claimSql`); it returns the columns a claim cannot know (see `CLAIM_RETURNING`).
 */
import type { OneStatementDialect } from '../dialects/sql-dialect.js';
import { CLAIM_RETURNING } from '../row-codec.js';

/**
 * The claim statement: `$1` worker id, `$2` limit, `$3` lease in milliseconds, `$4` the
 * `scheduledFrom` hint in epoch milliseconds ({@link NO_LOWER_BOUND} without one).
 */
export function claimSql(table: string, dialect: OneStatementDialect): string {
  return dialect.claimSql(table, CLAIM_RETURNING);
}

/** The claim's `scheduledFrom` when there is none: before every epoch-millisecond time. */
export const NO_LOWER_BOUND = Number.MIN_SAFE_INTEGER;
