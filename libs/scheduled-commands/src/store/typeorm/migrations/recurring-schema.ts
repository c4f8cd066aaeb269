import { addColumnStatements } from './scheduled-commands-schema.js';

/**
 * The schema that recurring schedules add, as SQL, for the migrations: the table of
 * `RecurringScheduleEntity`, and the two columns and two indexes of `ScheduledCommandEntity` that tie
 * an entry to its schedule and fire time.
 */

type Dialect = 'sqlite' | 'postgres';
const varchar = (dialect: Dialect, n: number) =>
  dialect === 'sqlite' ? `varchar(${n})` : `character varying(${n})`;

/**
 * Statements creating the recurring schema (`up`) and undoing it (`down`); `entries` and `recurring`
 * are quoted table names, `indexPrefix` qualifies index names (schema).
 */
export function recurringStatements(
  dialect: Dialect,
  entries: string,
  recurring: string,
  indexPrefix = '',
): { up: string[]; down: string[] } {
  const pk = dialect === 'sqlite' ? ' PRIMARY KEY' : '';
  const columns = [
    `"name" ${varchar(dialect, 200)}${pk} NOT NULL`,
    `"command_type" ${varchar(dialect, 200)} NOT NULL`,
    `"payload" text NOT NULL`,
    `"cron" text`,
    `"every_ms" bigint`,
    `"timezone" text NOT NULL`,
    `"misfire" ${varchar(dialect, 8)} NOT NULL`,
    `"max_catch_up" integer NOT NULL`,
    `"overlap" integer NOT NULL`,
    `"start_at" bigint`,
    `"end_at" bigint`,
    `"priority" integer NOT NULL`,
    `"max_retries" integer NOT NULL`,
    `"expires_after" bigint`,
    `"correlation_id" text`,
    `"metadata" text`,
    `"declared" integer NOT NULL`,
    `"paused" integer NOT NULL`,
    `"next_fire_at" bigint`,
    `"last_fire_at" bigint`,
    `"version" integer NOT NULL`,
    `"created_at" bigint NOT NULL`,
    `"updated_at" bigint NOT NULL`,
  ];
  if (dialect === 'postgres') {
    columns.push(`CONSTRAINT "PK_scheduled_commands_recurring" PRIMARY KEY ("name")`);
  }
  // The entries' columns and indexes marked `addedBy: 'recurring'` in the table definition.
  const added = addColumnStatements(dialect, entries, 'recurring', indexPrefix);
  return {
    up: [`CREATE TABLE ${recurring} (${columns.join(', ')})`, ...added.up],
    down: [...added.down, `DROP TABLE ${recurring}`],
  };
}

/**
 * Statements adding the `trace_context` column of the schedules (`up`) and dropping it (`down`);
 * `recurring` is the quoted table name. The column is nullable with no default: no row is rewritten.
 */
export function recurringTraceContextStatements(recurring: string): {
  up: string[];
  down: string[];
} {
  return {
    up: [`ALTER TABLE ${recurring} ADD COLUMN "trace_context" text`],
    down: [`ALTER TABLE ${recurring} DROP COLUMN "trace_context"`],
  };
}
