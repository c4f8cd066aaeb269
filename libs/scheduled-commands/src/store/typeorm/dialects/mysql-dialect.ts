import type { DataSource } from 'typeorm';
import { UnsupportedDatabaseError } from '../../../errors/unsupported-database.error.js';
import { messages } from '../../../scheduled-commands.messages.js';
import type { ScheduledCommandStatus } from '../../scheduled-command-entry.js';
import { LIVE_KEY_COLUMN, quoteMysql } from '../migrations/mysql-schema.js';
import type { StoreStatement, StoreStatements } from '../sql/store-statement.js';
import { compileParameters, NOW_PARAMETER, StatementCache } from './bind-parameters.js';
import {
  ER_DUP_ENTRY,
  inspectServer,
  MYSQL_ISOLATION_LEVEL,
  MYSQL_NOW_MS,
  mysqlErrno,
  retryOnDeadlock,
  type DeadlockCounter,
} from './mysql-server.js';
import { mysqlPurge, mysqlRequeue, mysqlStatements } from './mysql-statements.js';
import type {
  BoundStatement,
  JsonColumn,
  SqlDialect,
  SqlDialectDefinition,
} from './sql-dialect.js';

/** JSON_TABLE column types: text compares like the table's columns (`utf8mb4_bin`). */
const JSON_TYPES: Record<JsonColumn['type'], string> = {
  text: 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
  integer: 'INT',
  bigint: 'BIGINT',
};

/**
 * MySQL 8.0.1+ and MariaDB 10.6+ (InnoDB), through TypeORM's `mysql` and `mariadb` drivers. The
 * database clock decides what is due, claims lock rows with `FOR UPDATE SKIP LOCKED`, and every
 * write is a short READ COMMITTED transaction (see `mysql-statements.ts`) that is run again when
 * InnoDB picks it as a deadlock victim ({@link deadlocks} counts those). There is no `NOTIFY`:
 * other instances learn of new commands from their timer and their polling.
 */
export class MysqlDialect implements SqlDialect {
  readonly name = 'mysql';
  readonly preparedStatements = false;
  readonly sharedConnection = false;
  readonly partialIndexes = false;
  readonly isolationLevel = MYSQL_ISOLATION_LEVEL;
  /** Deadlocks retried, and given up on after the last attempt, since the store was made. */
  readonly deadlocks: DeadlockCounter = { retried: 0, gaveUp: 0 };
  private readonly cache = new StatementCache();

  runTransaction<T>(transaction: () => Promise<T>): Promise<T> {
    return retryOnDeadlock(transaction, this.deadlocks);
  }

  quoteTable(name: string): string {
    return name.split('.').map(quoteMysql).join('.');
  }

  /** `?` placeholders (a list parameter expands to a list); `$now` is the database clock. */
  bind(sql: string, params: readonly unknown[]): BoundStatement {
    const compiled = this.cache.get(sql, (text) =>
      compileParameters(text, (index) =>
        index === NOW_PARAMETER
          ? { text: MYSQL_NOW_MS, positional: false }
          : { text: '?', positional: true },
      ),
    );
    return { sql: compiled.sql, params: compiled.order.map((index) => params[index]) };
  }

  jsonRows(param: string, columns: readonly JsonColumn[]): string {
    const fields = columns.map((c) => `${c.name} ${JSON_TYPES[c.type]} PATH '$.${c.name}'`);
    return `JSON_TABLE(${param}, '$[*]' COLUMNS (${fields.join(', ')})) AS v`;
  }

  indexHint(): string {
    // Every index the statements need leads with the status: the planner finds them.
    return '';
  }

  statements(table: string): StoreStatements {
    return mysqlStatements(table, this);
  }

  requeue(
    table: string,
    candidates: string,
    statuses: readonly ScheduledCommandStatus[],
  ): StoreStatement {
    return mysqlRequeue(table, candidates, statuses);
  }

  purge(table: string, statuses: readonly ScheduledCommandStatus[]): StoreStatement {
    return mysqlPurge(table, statuses);
  }

  isUniqueViolation(error: unknown): boolean {
    return mysqlErrno(error) === ER_DUP_ENTRY;
  }

  /**
   * Checks the server (version, binary log format: see `inspectServer`) and the table: it must be
   * the shipped migration's (InnoDB, `utf8mb4_bin`, the generated live-key column).
   * @throws {UnsupportedDatabaseError} when either is not
   */
  async prepareConnection(dataSource: DataSource, tableName: string): Promise<void> {
    const query = (sql: string, params: unknown[] = []) =>
      dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
    await inspectServer((sql) => query(sql));
    const [schema, name] = tableName.includes('.') ? tableName.split('.', 2) : [null, tableName];
    const [table] = await query(
      `SELECT t.ENGINE AS engine, t.TABLE_COLLATION AS collation,
         (SELECT COUNT(*) FROM information_schema.COLUMNS c
          WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
            AND c.COLUMN_NAME = ?) AS live
       FROM information_schema.TABLES t
       WHERE t.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND t.TABLE_NAME = ?`,
      [LIVE_KEY_COLUMN, schema, name],
    );
    const found = !table
      ? 'does not exist'
      : String(table.engine).toLowerCase() !== 'innodb'
        ? `uses the ${String(table.engine)} engine`
        : String(table.collation) !== 'utf8mb4_bin'
          ? `has the collation ${String(table.collation)}`
          : Number(table.live) === 0
            ? `has no ${LIVE_KEY_COLUMN} column`
            : null;
    if (found !== null) {
      throw new UnsupportedDatabaseError(
        'table',
        found,
        messages.mysqlTableNotFromMigration(tableName, found),
      );
    }
  }
}

/** MySQL and MariaDB through TypeORM's `mysql` or `mariadb` driver (`mysql2`). */
export const MYSQL_DIALECT: SqlDialectDefinition = {
  dataSourceTypes: ['mysql', 'mariadb'],
  create: () => new MysqlDialect(),
};
