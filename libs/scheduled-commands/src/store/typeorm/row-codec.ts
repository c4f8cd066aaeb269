import {
  ScheduledCommandStatus,
  type Lease,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandMetadata,
  type ScheduledCommandStatistics,
} from '../scheduled-command-entry.js';
import { emptyCounts, noPendingFigures, toStatistics } from '../status-counts.js';
import type { JsonColumn } from './dialects/sql-dialect.js';
import { TABLE_COLUMNS, type ColumnName } from './scheduled-commands-table.js';

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;

/** Every column, in table order: what the statements that hand out entries return. */
export const RETURNING = TABLE_COLUMNS.map((column) => column.name).join(', ');

/** Columns a claim does not return: it set them itself (see {@link toEntry}) or they are empty. */
const SET_BY_CLAIM: readonly ColumnName[] = [
  'status',
  'completed_at',
  'result_payload',
  'locked_by',
  'locked_until',
];
/**
 * What a claim returns: the columns a claim cannot know. A pending row never holds a result or a
 * completion time (every path back to pending clears them); the claim itself sets the status, the
 * holder and the lease end (`started_at` + the lease), so those are filled in by {@link toEntry}.
 * Fewer columns: less for the database to send and for the driver to parse, per claimed row.
 */
export const CLAIM_RETURNING = TABLE_COLUMNS.map((column) => column.name)
  .filter((name) => !SET_BY_CLAIM.includes(name))
  .join(', ');

/** `pg` returns `bigint` and `count(*)` as strings; SQLite returns numbers. */
export const num = (value: unknown): number =>
  value === null || value === undefined ? 0 : Number(value);
const time = (value: unknown): Date | null =>
  value === null || value === undefined ? null : new Date(Number(value));
const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

function parseMetadata(value: unknown): ScheduledCommandMetadata | null {
  if (value === null || value === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(String(value));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as ScheduledCommandMetadata)
      : null;
  } catch {
    return null;
  }
}

/** What a claim set on the rows it returns and did not send back (see {@link CLAIM_RETURNING}). */
export interface ClaimedBy {
  readonly workerId: string;
  readonly leaseMs: number;
}

/**
 * A row of the table as the plain entry the contract hands out; `claimed`: a row returned by the
 * claim, whose status, lease and cleared fields are filled in here.
 */
export function toEntry(row: Row, claimed?: ClaimedBy): ScheduledCommandEntry {
  const startedAt = time(row.started_at);
  return {
    id: String(row.id),
    commandType: String(row.command_type),
    payload: String(row.payload),
    status: claimed ? ScheduledCommandStatus.Processing : (row.status as ScheduledCommandStatus),
    scheduledFor: new Date(Number(row.scheduled_for)),
    priority: num(row.priority),
    retryCount: num(row.retry_count),
    maxRetries: num(row.max_retries),
    attempts: num(row.attempts),
    expiresAt: time(row.expires_at),
    correlationId: text(row.correlation_id),
    metadata: parseMetadata(row.metadata),
    idempotencyKey: text(row.idempotency_key),
    createdAt: new Date(Number(row.created_at)),
    startedAt,
    completedAt: claimed ? null : time(row.completed_at),
    errorMessage: text(row.error_message),
    resultPayload: claimed ? null : text(row.result_payload),
    lockedBy: claimed ? claimed.workerId : text(row.locked_by),
    lockedUntil:
      claimed && startedAt
        ? new Date(startedAt.getTime() + claimed.leaseMs)
        : time(row.locked_until),
    traceContext: text(row.trace_context),
    recurringName: text(row.recurring_name),
  };
}

/**
 * The statistics in the rows of the statistics statement (one row per status: `v_count`, and for
 * pending rows `v_oldest`, `v_retrying` and `v_due`). The rows of the count statement, which has
 * `v_count` only, give the `counts` and `total`.
 */
export function statisticsOf(rows: readonly Row[]): ScheduledCommandStatistics {
  const counts = emptyCounts();
  const pending = noPendingFigures();
  let total = 0;
  for (const row of rows) {
    const status = row.status as ScheduledCommandStatus;
    const n = num(row.v_count);
    total += n;
    if (status in counts) counts[status] = n;
    if (status === ScheduledCommandStatus.Pending) {
      pending.oldest =
        row.v_oldest === null || row.v_oldest === undefined ? null : Number(row.v_oldest);
      pending.waitingForRetry = num(row.v_retrying);
      pending.dueNow = num(row.v_due);
    }
  }
  return toStatistics(counts, total, pending);
}

/** A duration in whole milliseconds, never negative. */
export const wholeMs = (ms: number): number => Math.max(0, Math.round(ms));

/** The keys of a lease in a batch parameter (see {@link leaseRow}). */
export const LEASE_COLUMNS: readonly JsonColumn[] = [
  { name: 'v_id', type: 'text' },
  { name: 'v_worker', type: 'text' },
  { name: 'v_attempt', type: 'integer' },
];

/** The keys of a completion in a batch parameter: a lease and the result. */
export const COMPLETION_COLUMNS: readonly JsonColumn[] = [
  ...LEASE_COLUMNS,
  { name: 'v_result', type: 'text' },
];

/**
 * The JSON object of a lease in a batch parameter (see {@link LEASE_COLUMNS}), with the result of a
 * completion (see {@link COMPLETION_COLUMNS}; the other updates do not read it).
 */
export const leaseRow = (lease: Lease, result: string | null = null): Record<string, unknown> => ({
  v_id: lease.id,
  v_worker: lease.workerId,
  v_attempt: lease.attempt,
  v_result: result,
});

/** The keys of a new command in the insert's batch parameter (see {@link newRow}). */
export const NEW_COMMAND_COLUMNS: readonly JsonColumn[] = [
  { name: 'v_id', type: 'text' },
  { name: 'v_command_type', type: 'text' },
  { name: 'v_payload', type: 'text' },
  { name: 'v_scheduled_for', type: 'bigint' },
  { name: 'v_delay', type: 'bigint' },
  { name: 'v_priority', type: 'integer' },
  { name: 'v_max_retries', type: 'integer' },
  { name: 'v_expires_after', type: 'bigint' },
  { name: 'v_correlation_id', type: 'text' },
  { name: 'v_metadata', type: 'text' },
  { name: 'v_idempotency_key', type: 'text' },
  { name: 'v_trace_context', type: 'text' },
];

/** The JSON object of one new command for the insert statement. */
export function newRow(command: NewScheduledCommand): Record<string, unknown> {
  return {
    v_id: command.id,
    v_command_type: command.commandType,
    v_payload: command.payload,
    v_scheduled_for: command.scheduledFor ? command.scheduledFor.getTime() : null,
    v_delay: command.scheduledFor ? null : wholeMs(command.delay ?? 0),
    v_priority: command.priority,
    v_max_retries: command.maxRetries,
    v_expires_after: command.expiresAfter === null ? null : wholeMs(command.expiresAfter),
    v_correlation_id: command.correlationId,
    v_metadata: command.metadata ? JSON.stringify(command.metadata) : null,
    v_idempotency_key: command.idempotencyKey,
    v_trace_context: command.traceContext ?? null,
  };
}
