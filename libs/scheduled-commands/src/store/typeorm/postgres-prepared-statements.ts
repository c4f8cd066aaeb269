import { createHash } from 'node:crypto';
import { QueryFailedError, type DataSource, type QueryRunner } from 'typeorm';
import type { Row } from './row-codec.js';

type TypeParser = (value: string) => unknown;
interface PgTypes {
  getTypeParser(oid: number, format?: string): TypeParser;
}

/** The part of a `pg` client (the driver connection of a PostgreSQL query runner) the store uses. */
interface PgClient {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
    types?: PgTypes;
  }): Promise<{ rows?: Row[]; rowCount?: number | null }>;
  getTypeParser?(oid: number, format?: string): TypeParser;
}

/** PostgreSQL's type id of `bigint`. */
const INT8_OID = 20;
const asText: TypeParser = (value) => value;
/**
 * Type parsers of the store's prepared statements, per client: the client's own, except that
 * `bigint` (times, counts) is left as text, which the store converts itself. `pg`'s default checks
 * every `bigint` value against a regular expression first, several times per claimed row.
 */
const storeTypes = new WeakMap<PgClient, PgTypes | undefined>();

function typesOf(client: PgClient): PgTypes | undefined {
  if (storeTypes.has(client)) return storeTypes.get(client);
  const types: PgTypes | undefined =
    typeof client.getTypeParser === 'function'
      ? {
          getTypeParser: (oid, format) =>
            oid === INT8_OID && (format ?? 'text') === 'text'
              ? asText
              : client.getTypeParser!(oid, format),
        }
      : undefined;
  storeTypes.set(client, types);
  return types;
}

/**
 * Names of prepared statements by SQL text. The name is derived from the text alone, so every
 * store instance and every pooled connection agree on it; a connection prepares it on first use.
 */
const statementNames = new Map<string, string>();
/** Bound on {@link statementNames}: the fixed statements are a handful per table. */
const MAX_STATEMENT_NAMES = 500;

/** The name under which `sql` is prepared: `sc_` and a hash of the text. */
export function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `sc_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (statementNames.size >= MAX_STATEMENT_NAMES) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Runs a bound statement as a named prepared statement on the runner's `pg` client, logging and
 * wrapping errors in `QueryFailedError` as `QueryRunner.query` does. Skipping `query` saves the
 * planning of the statement on every call, which costs more than running the claim itself.
 */
export async function executePrepared(
  dataSource: DataSource,
  runner: QueryRunner,
  text: string,
  values: unknown[],
): Promise<{ rows: Row[]; affected: number }> {
  const client = (await runner.connect()) as PgClient;
  const logger = dataSource.logger;
  logger.logQuery(text, values, runner);
  const started = Date.now();
  let result: Awaited<ReturnType<PgClient['query']>>;
  try {
    result = await client.query({
      name: statementName(text),
      text,
      values,
      types: typesOf(client),
    });
  } catch (error) {
    logger.logQueryError(error as Error, text, values, runner);
    throw new QueryFailedError(text, values, error as Error);
  }
  const slow = dataSource.options.maxQueryExecutionTime;
  const elapsed = Date.now() - started;
  if (slow && elapsed > slow) logger.logQuerySlow(elapsed, text, values, runner);
  const rows = result.rows ?? [];
  return { rows, affected: result.rowCount ?? rows.length };
}
