import type { DataSource } from 'typeorm';
import type { Clock } from '../../clock.js';
import { ScheduledCommandsError } from '../../errors/index.js';
import { MYSQL_DIALECT } from './dialects/mysql-dialect.js';
import { POSTGRES_DIALECT } from './dialects/postgres-dialect.js';
import type { SqlDialect, SqlDialectContext } from './dialects/sql-dialect.js';
import { SQLITE_DIALECT } from './dialects/sqlite-dialect.js';

/** The dialects the TypeORM store runs on; a new database is one more entry here. */
const DIALECTS = [SQLITE_DIALECT, POSTGRES_DIALECT, MYSQL_DIALECT];

/**
 * The dialect for the `type` of `dataSource`.
 *
 * @throws ScheduledCommandsError when no dialect serves that type, naming the supported ones.
 */
export function selectDialect(
  dataSource: DataSource,
  clock: Clock,
  options: SqlDialectContext['options'],
): SqlDialect {
  const type = String(dataSource.options.type);
  const definition = DIALECTS.find((d) => d.dataSourceTypes.includes(type));
  if (definition) return definition.create({ dataSource, clock, options });
  const supported = DIALECTS.flatMap((d) => d.dataSourceTypes);
  throw new ScheduledCommandsError(
    `TypeOrmScheduledCommandStore does not support the DataSource type "${type}"; supported types: ${supported
      .map((t) => `"${t}"`)
      .join(', ')}. Use another ScheduledCommandStore for other databases.`,
  );
}
