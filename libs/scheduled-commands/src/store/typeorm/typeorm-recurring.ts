import type { DataSource } from 'typeorm';
import type { MisfirePolicy } from '../../recurring/recurring-options.js';
import type {
  DueRecurring,
  NewRecurringOccurrence,
  RecurringMaterialization,
  RecurringScheduleFields,
  RecurringScheduleRecord,
  RecurringWrite,
} from '../recurring-schedule-record.js';
import { RECURRING_SCHEDULES_TABLE } from '../../scheduled-commands.constants.js';
import { quoteTableName } from './dialects/sql-dialect.js';
import { RecurringScheduleEntity } from './recurring-schedule.entity.js';
import { RECURRING_COLUMNS, type RecurringStatements } from './recurring-statements.js';
import type { Row } from './row-codec.js';
import type { StatementExecutor } from './statement-executor.js';

/** One statement of an atomic write; `required`: roll everything back when it touches no row. */
interface Step {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly required?: boolean;
}

/** Thrown inside a transaction to roll it back when a required step touched nothing. */
class Abort extends Error {}

const ms = (value: Date | null): number | null => (value ? value.getTime() : null);
const date = (value: unknown): Date | null =>
  value === null || value === undefined ? null : new Date(Number(value));
const textOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

/** The row of a schedule as the record the contract hands out. */
function toRecord(row: Row): RecurringScheduleRecord {
  return {
    name: String(row.name),
    commandType: String(row.command_type),
    payload: String(row.payload),
    cron: textOrNull(row.cron),
    every: row.every_ms === null || row.every_ms === undefined ? null : Number(row.every_ms),
    timezone: String(row.timezone),
    misfire: String(row.misfire) as MisfirePolicy,
    maxCatchUp: Number(row.max_catch_up),
    overlap: Number(row.overlap) === 1,
    startAt: date(row.start_at),
    endAt: date(row.end_at),
    priority: Number(row.priority),
    maxRetries: Number(row.max_retries),
    expiresAfter:
      row.expires_after === null || row.expires_after === undefined
        ? null
        : Number(row.expires_after),
    correlationId: textOrNull(row.correlation_id),
    metadata: row.metadata ? (JSON.parse(String(row.metadata)) as Record<string, string>) : null,
    declared: Number(row.declared) === 1,
    paused: Number(row.paused) === 1,
    nextFireAt: date(row.next_fire_at),
    lastFireAt: date(row.last_fire_at),
    version: Number(row.version),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
    traceContext: textOrNull(row.trace_context),
  };
}

/** The parameters of the insert and update statements, in {@link RECURRING_COLUMNS} order. */
function columnParams(s: RecurringScheduleFields): unknown[] {
  const values: Record<(typeof RECURRING_COLUMNS)[number], unknown> = {
    name: s.name,
    command_type: s.commandType,
    payload: s.payload,
    cron: s.cron,
    every_ms: s.every,
    timezone: s.timezone,
    misfire: s.misfire,
    max_catch_up: s.maxCatchUp,
    overlap: s.overlap ? 1 : 0,
    start_at: ms(s.startAt),
    end_at: ms(s.endAt),
    priority: s.priority,
    max_retries: s.maxRetries,
    expires_after: s.expiresAfter,
    correlation_id: s.correlationId,
    metadata: s.metadata ? JSON.stringify(s.metadata) : null,
    declared: s.declared ? 1 : 0,
    paused: s.paused ? 1 : 0,
    next_fire_at: ms(s.nextFireAt),
    last_fire_at: ms(s.lastFireAt),
    trace_context: s.traceContext ?? null,
  };
  return RECURRING_COLUMNS.map((column) => values[column]);
}

function occurrenceRow(o: NewRecurringOccurrence): Row {
  return {
    v_id: o.id,
    v_command_type: o.commandType,
    v_payload: o.payload,
    v_scheduled_for: ms(o.scheduledFor),
    v_priority: o.priority,
    v_max_retries: o.maxRetries,
    v_expires_after: o.expiresAfter,
    v_correlation_id: o.correlationId,
    v_metadata: o.metadata ? JSON.stringify(o.metadata) : null,
    v_recurring_name: o.recurringName,
    v_fire_time: ms(o.fireTime),
    v_trace_context: o.traceContext ?? null,
  };
}

/**
 * The recurring-schedule operations of `TypeOrmScheduledCommandStore`. Each write is one
 * transaction (the store's executor) whose first statement is a conditional write (an insert that
 * may conflict, or an update on the version read): the loser of a race changes nothing, and on
 * SQLite the write lock is taken by the first statement, before anything is read.
 */
export class TypeOrmRecurring {
  constructor(
    private readonly executor: StatementExecutor,
    private readonly sql: () => RecurringStatements,
  ) {}

  async write(write: RecurringWrite): Promise<RecurringScheduleRecord | null> {
    const { sql } = this;
    const params = columnParams(write.schedule);
    const steps: Step[] = [
      write.expectedVersion === null
        ? { sql: sql().insert, params, required: true }
        : { sql: sql().update, params: [...params, write.expectedVersion], required: true },
    ];
    if (write.dropFutureOccurrences) {
      steps.push({ sql: sql().dropFuture, params: [write.schedule.name] });
    }
    const results = await this.atomically(steps);
    return results ? toRecord(results[0][0]) : null;
  }

  async remove(name: string): Promise<boolean> {
    const results = await this.atomically([
      { sql: this.sql().remove, params: [name], required: true },
      { sql: this.sql().dropFuture, params: [name] },
    ]);
    return results !== null;
  }

  async get(name: string): Promise<RecurringScheduleRecord | null> {
    const rows = await this.read(this.sql().get, [name]);
    return rows.length ? toRecord(rows[0]) : null;
  }

  async list(): Promise<RecurringScheduleRecord[]> {
    return (await this.read(this.sql().list, [])).map(toRecord);
  }

  async due(horizonMs: number): Promise<DueRecurring> {
    const rows = await this.read(this.sql().due, [Math.round(horizonMs)]);
    return {
      now: new Date(Number(rows[0].v_now)),
      schedules: rows.filter((row) => row.name !== null && row.name !== undefined).map(toRecord),
    };
  }

  async materialize(m: RecurringMaterialization): Promise<string[] | null> {
    const sql = this.sql();
    const steps: Step[] = [
      m.expectedVersion === null
        ? { sql: sql.exists, params: [m.name], required: true }
        : {
            sql: sql.advance,
            params: [m.name, ms(m.nextFireAt), ms(m.lastFireAt), m.expectedVersion],
            required: true,
          },
    ];
    if (m.occurrences.length > 0) {
      steps.push({
        sql: sql.insertOccurrences,
        params: [JSON.stringify(m.occurrences.map(occurrenceRow))],
      });
    }
    const results = await this.atomically(steps);
    if (!results) return null;
    return (results[1] ?? []).map((row) => String(row.id));
  }

  /** Runs `steps` in one transaction; `null` (rolled back) when a required step touched no row. */
  private async atomically(steps: readonly Step[]): Promise<Row[][] | null> {
    try {
      return await this.executor.transaction(async (runner) => {
        const results: Row[][] = [];
        for (const step of steps) {
          const { rows, affected } = await runner.execute(step.sql, step.params);
          if (step.required && rows.length === 0 && affected === 0) throw new Abort();
          results.push(rows);
        }
        return results;
      });
    } catch (error) {
      if (error instanceof Abort) return null;
      throw error;
    }
  }

  /** Runs one reading statement. */
  private async read(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.executor.execute(sql, params)).rows;
  }
}

/**
 * The quoted table of the schedules: the table of `RecurringScheduleEntity` when the DataSource
 * has it, otherwise `scheduled_commands_recurring` in the schema of the entries table.
 */
export function recurringTableOf(dataSource: DataSource, entriesTable: string): string {
  try {
    if (dataSource.hasMetadata(RecurringScheduleEntity)) {
      return quoteTableName(dataSource.getMetadata(RecurringScheduleEntity).tablePath);
    }
  } catch {
    // Metadata is built when the DataSource initialises; fall back to the default name.
  }
  const dot = entriesTable.lastIndexOf('"."');
  const schema = dot >= 0 ? entriesTable.slice(0, dot + 1) + '.' : '';
  return `${schema}${quoteTableName(RECURRING_SCHEDULES_TABLE)}`;
}
