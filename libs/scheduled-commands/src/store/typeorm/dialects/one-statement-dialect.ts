import type { DataSource } from 'typeorm';
import type { ScheduledCommandStatus } from '../../scheduled-command-entry.js';
import { purgeSql } from '../sql/maintenance-sql.js';
import { requeueSql } from '../sql/requeue-sql.js';
import { buildStatements } from '../sql/statements.js';
import { oneStatement, type StoreStatement, type StoreStatements } from '../sql/store-statement.js';
import {
  quoteTableName,
  type BoundStatement,
  type JsonColumn,
  type OneStatementDialect,
} from './sql-dialect.js';

/**
 * What PostgreSQL and SQLite share: every store operation is one statement written by the builders
 * in `../sql/`, transactions run once at the connection's isolation level, and names are quoted
 * with double quotes. A subclass gives the parts of {@link OneStatementDialect} that differ.
 */
export abstract class OneStatementSqlDialect implements OneStatementDialect {
  abstract readonly name: string;
  abstract readonly preparedStatements: boolean;
  abstract readonly sharedConnection: boolean;
  readonly partialIndexes = true;
  abstract readonly skipLocked: string;
  readonly isolationLevel = undefined;

  abstract bind(sql: string, params: readonly unknown[]): BoundStatement;
  abstract jsonRows(param: string, columns: readonly JsonColumn[]): string;
  abstract indexHint(index: string): string;
  abstract idInBatch(batch: string): string;
  abstract claimSql(table: string, returning: string): string;
  abstract unindexed(column: string): string;
  abstract notifying(sql: string): string;
  abstract isUniqueViolation(error: unknown): boolean;
  abstract prepareConnection(dataSource: DataSource, tableName: string): Promise<void>;

  runTransaction<T>(transaction: () => Promise<T>): Promise<T> {
    return transaction();
  }

  quoteTable(name: string): string {
    return quoteTableName(name);
  }

  statements(table: string): StoreStatements {
    return buildStatements(table, this);
  }

  requeue(
    table: string,
    candidates: string,
    statuses: readonly ScheduledCommandStatus[],
  ): StoreStatement {
    return oneStatement(requeueSql(table, this, candidates, statuses));
  }

  purge(table: string, statuses: readonly ScheduledCommandStatus[]): StoreStatement {
    return oneStatement(purgeSql(table, this, statuses));
  }
}
