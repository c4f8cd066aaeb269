import { createHash } from 'node:crypto';
import { QueryFailedError, type DataSource, type QueryRunner } from 'typeorm';
import type { Clock } from '../../clock.js';
import { ScheduledCommandsError } from '../../errors/index.js';
import { SCHEDULED_COMMANDS_TABLE } from '../../scheduled-commands.constants.js';
import { messages } from '../../scheduled-commands.messages.js';
import { byIdAsc, byTimeThenId, claimOrder } from '../entry-order.js';
import { encodeCursor, parseFindOptions } from '../find-options.js';
import {
  FINISHED_STATUSES,
  SCHEDULED_COMMAND_STATUSES,
  ScheduledCommandStatus,
  type ClaimRequest,
  type Completion,
  type FindOptions,
  type FindResult,
  type Lease,
  type LeaseRecovery,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandFilter,
  type ScheduledCommandMetadata,
  type ScheduledCommandStatistics,
  type ScheduleResult,
  type ScheduleTime,
  type StatusCounts,
} from '../scheduled-command-entry.js';
import {
  ScheduledCommandStore,
  type PurgeRequest,
  type StoreWatch,
} from '../scheduled-command-store.js';
import { PostgresDialect, SCHEDULED_COMMANDS_CHANNEL } from './dialects/postgres-dialect.js';
import { listenClientFactory, PostgresListener } from './dialects/postgres-listener.js';
import {
  CLAIM_INDEX,
  EXPIRY_INDEX,
  FINISHED_INDEX,
  IDEMPOTENCY_INDEX,
  LEASE_INDEX,
  pendingPrioritiesCte,
  quoteTableName,
  type JsonColumn,
  type SqlDialect,
} from './dialects/sql-dialect.js';
import { SqliteDialect } from './dialects/sqlite-dialect.js';
import { filterCondition, statusList } from './find-query.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';

/** Options of {@link TypeOrmScheduledCommandStore}. */
export interface TypeOrmScheduledCommandStoreOptions {
  /**
   * Table to use, optionally schema-qualified (`'jobs.scheduled_commands'`). It must have the
   * schema of `ScheduledCommandEntity` (same columns and indexes).
   * @default the table of `ScheduledCommandEntity` in this DataSource when the entity is registered
   *   (honouring the DataSource's `schema`), otherwise `'scheduled_commands'`
   */
  readonly tableName?: string;
  /**
   * SQLite only: before the first statement, set `PRAGMA busy_timeout = 5000` when the connection
   * has no busy timeout, and switch a file database from the default rollback journal to WAL.
   * Set to `false` to leave the connection exactly as configured.
   * @default true
   */
  readonly configureSqlite?: boolean;
  /**
   * PostgreSQL only: run the statements whose text is the same on every call (claim, complete,
   * retry, dead-letter, release, lease extension, schedule, next-due lookup, expiry sweep, lease
   * recovery, cancel, get) as named prepared statements, so that each pooled connection plans them
   * once instead of on every call. They then bypass TypeORM's query subscribers (logging still goes
   * through the DataSource's logger). Set to `false` behind PgBouncer in transaction pooling mode
   * older than 1.21, which cannot keep named prepared statements.
   * @default true
   */
  readonly preparedStatements?: boolean;
}

/** The `DataSource` types this store runs on, by dialect. */
const SUPPORTED_DATA_SOURCE_TYPES = {
  sqlite: ['better-sqlite3', 'sqlite'],
  postgres: ['postgres'],
} as const;

/** Rows per statement in batch writes (every batch travels as one JSON parameter). */
const BATCH_SIZE = 1000;
/** Rounds of "insert, then look up the key holders" before `schedule` gives up. */
const MAX_SCHEDULE_ROUNDS = 10;
/** Attempts of a requeue that lost a race for an idempotency key against a concurrent insert. */
const MAX_REQUEUE_ATTEMPTS = 3;
const DEFAULT_PURGE_LIMIT = 1000;
/** The claim's `scheduledFrom` when there is none: before every epoch-millisecond time. */
const NO_LOWER_BOUND = Number.MIN_SAFE_INTEGER;
const LIVE = `'pending', 'processing'`;

const COLUMNS = [
  'id',
  'command_type',
  'payload',
  'status',
  'scheduled_for',
  'priority',
  'retry_count',
  'max_retries',
  'attempts',
  'expires_at',
  'correlation_id',
  'metadata',
  'idempotency_key',
  'created_at',
  'started_at',
  'completed_at',
  'error_message',
  'result_payload',
  'locked_by',
  'locked_until',
] as const;
const RETURNING = COLUMNS.join(', ');
/**
 * What a claim returns: the columns a claim cannot know. A pending row never holds a result or a
 * completion time (every path back to pending clears them); the claim itself sets the status, the
 * holder and the lease end (`started_at` + the lease), so those are filled in by {@link toEntry}.
 * Fewer columns: less for the database to send and for the driver to parse, per claimed row.
 */
const CLAIM_RETURNING = COLUMNS.filter(
  (column) =>
    !['status', 'completed_at', 'result_payload', 'locked_by', 'locked_until'].includes(column),
).join(', ');

type Row = Record<string, unknown>;

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

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `sc_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (statementNames.size >= MAX_STATEMENT_NAMES) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

const LEASE_COLUMNS: readonly JsonColumn[] = [
  { name: 'v_id', type: 'text' },
  { name: 'v_worker', type: 'text' },
  { name: 'v_attempt', type: 'integer' },
];

const COMPLETION_COLUMNS: readonly JsonColumn[] = [
  ...LEASE_COLUMNS,
  { name: 'v_result', type: 'text' },
];

/**
 * The JSON object of a lease in a batch parameter (see {@link LEASE_COLUMNS}), with the result of a
 * completion (see {@link COMPLETION_COLUMNS}; the other updates do not read it).
 */
const leaseRow = (lease: Lease, result: string | null = null): Record<string, unknown> => ({
  v_id: lease.id,
  v_worker: lease.workerId,
  v_attempt: lease.attempt,
  v_result: result,
});

const NEW_COMMAND_COLUMNS: readonly JsonColumn[] = [
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
];

/** `pg` returns `bigint` and `count(*)` as strings; SQLite returns numbers. */
const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
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
interface ClaimedBy {
  readonly workerId: string;
  readonly leaseMs: number;
}

/**
 * A row of the table as the plain entry the contract hands out; `claimed`: a row returned by the
 * claim, whose status, lease and cleared fields are filled in here.
 */
function toEntry(row: Row, claimed?: ClaimedBy): ScheduledCommandEntry {
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
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const wholeMs = (ms: number): number => Math.max(0, Math.round(ms));

/** The statuses of `wanted` an entry can be requeued or purged from (never pending or processing). */
const finishedOnly = (wanted: readonly ScheduledCommandStatus[]): ScheduledCommandStatus[] =>
  FINISHED_STATUSES.filter((status) => wanted.includes(status));

function createDialect(
  dataSource: DataSource,
  clock: Clock,
  options: TypeOrmScheduledCommandStoreOptions,
): SqlDialect {
  const type = String(dataSource.options.type);
  if ((SUPPORTED_DATA_SOURCE_TYPES.sqlite as readonly string[]).includes(type)) {
    return new SqliteDialect({
      nowMs: () => clock.now().getTime(),
      configureConnection: options.configureSqlite ?? true,
    });
  }
  if ((SUPPORTED_DATA_SOURCE_TYPES.postgres as readonly string[]).includes(type)) {
    return new PostgresDialect();
  }
  const supported = [
    ...SUPPORTED_DATA_SOURCE_TYPES.sqlite,
    ...SUPPORTED_DATA_SOURCE_TYPES.postgres,
  ];
  throw new ScheduledCommandsError(
    `TypeOrmScheduledCommandStore does not support the DataSource type "${type}"; supported types: ${supported
      .map((t) => `"${t}"`)
      .join(', ')}. Use another ScheduledCommandStore for other databases.`,
  );
}

/**
 * The {@link ScheduledCommandStore} on a TypeORM `DataSource`: SQLite (better-sqlite3) or
 * PostgreSQL, in the table of {@link ScheduledCommandEntity} (create it with `synchronize` or with
 * the shipped migrations, see `scheduledCommandsMigrations()`).
 *
 * Every operation is one SQL statement that checks the row's status (and lease) in its `WHERE`
 * clause, so races have exactly one winner, and batches (`scheduleMany`, `complete`, `release`,
 * `extendLeases`) travel as one JSON parameter per statement. Claims read only the due part of each
 * priority's range of a partial index, so their cost does not grow with the number of future
 * commands.
 *
 * - **PostgreSQL**: the database clock decides what is due and stamps every time it writes (app
 *   clocks may drift; the injected `Clock` is not used). Claims lock rows with
 *   `FOR UPDATE SKIP LOCKED`, so many instances claim concurrently without waiting on each other.
 *   Scheduling, rescheduling, requeueing and releasing send `NOTIFY scheduled_commands`, and
 *   `watch()` listens on a dedicated connection. The statements run on every poll are named
 *   prepared statements, planned once per connection (see
 *   {@link TypeOrmScheduledCommandStoreOptions.preparedStatements}).
 * - **SQLite**: the injected `Clock` is the store's clock. A write statement holds the database's
 *   write lock from start to end, so several processes may share the file; before the first
 *   statement the store sets a busy timeout when there is none and switches a file database to WAL
 *   (see {@link TypeOrmScheduledCommandStoreOptions.configureSqlite}). `watch` is not offered.
 *
 * `watch(onScheduled)` (PostgreSQL only) calls `onScheduled` whenever any instance schedules,
 * reschedules, requeues or releases a command, through `LISTEN scheduled_commands` on a dedicated
 * connection built from the DataSource's connection options. A dropped connection is re-opened with
 * exponential backoff (100 ms doubling up to 10 s), after which `onScheduled` is called once for the
 * notifications that may have been missed. `close()` on the returned handle ends the connection.
 *
 * @throws ScheduledCommandsError from the constructor when the DataSource type is not supported.
 */
export class TypeOrmScheduledCommandStore extends ScheduledCommandStore {
  private readonly dialect: SqlDialect;
  /** Whether statements with a fixed text run as named prepared statements (PostgreSQL only). */
  private readonly preparedStatements: boolean;
  private ready: Promise<void> | undefined;
  private table = '';
  private claimStatement = '';

  /**
   * @param dataSource an initialised (or soon initialised) TypeORM DataSource of type
   *   `better-sqlite3` or `postgres`
   * @param clock the store's clock on SQLite; on PostgreSQL the database clock is used instead
   * @param options see {@link TypeOrmScheduledCommandStoreOptions}
   */
  constructor(
    private readonly dataSource: DataSource,
    clock: Clock,
    private readonly options: TypeOrmScheduledCommandStoreOptions = {},
  ) {
    super();
    this.dialect = createDialect(dataSource, clock, options);
    this.preparedStatements =
      this.dialect.name === 'postgres' && (options.preparedStatements ?? true);
    if (this.dialect.name === 'postgres') {
      // watch() exists on PostgreSQL only: see the class documentation.
      this.watch = async (onScheduled: () => void): Promise<StoreWatch> => {
        const listener = new PostgresListener(
          listenClientFactory(this.dataSource),
          SCHEDULED_COMMANDS_CHANNEL,
          onScheduled,
        );
        await listener.start();
        return listener;
      };
    }
  }

  override async schedule(command: NewScheduledCommand): Promise<ScheduleResult> {
    const [result] = await this.scheduleMany([command]);
    return result;
  }

  override async scheduleMany(commands: readonly NewScheduledCommand[]): Promise<ScheduleResult[]> {
    await this.prepare();
    const results: ScheduleResult[] = new Array(commands.length);
    let offset = 0;
    for (const batch of chunks(commands, BATCH_SIZE)) {
      await this.insertBatch(batch, offset, results);
      offset += batch.length;
    }
    return results;
  }

  override async claim(request: ClaimRequest): Promise<ScheduledCommandEntry[]> {
    const limit = Math.floor(request.limit);
    if (!(limit > 0)) return [];
    await this.prepare();
    const from = request.scheduledFrom?.getTime();
    const { workerId } = request;
    const leaseMs = wholeMs(request.leaseMs);
    const rows = await this.rows(
      this.claimStatement,
      [
        workerId,
        limit,
        leaseMs,
        from !== undefined && Number.isFinite(from) ? from : NO_LOWER_BOUND,
      ],
      true,
    );
    const claimed: ClaimedBy = { workerId, leaseMs };
    const entries = new Array<ScheduledCommandEntry>(rows.length);
    for (let i = 0; i < rows.length; i++) entries[i] = toEntry(rows[i], claimed);
    return entries.sort(claimOrder);
  }

  override async complete(completions: readonly Completion[]): Promise<string[]> {
    return this.updateLeases(
      completions,
      ({ lease, resultPayload }) => leaseRow(lease, resultPayload),
      COMPLETION_COLUMNS,
      `status = 'completed', completed_at = $now, result_payload = v_result,
        locked_by = NULL, locked_until = NULL`,
      [],
      false,
    );
  }

  override async retry(
    lease: Lease,
    errorMessage: string,
    delayMs: number,
  ): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(
      `UPDATE ${this.table}
      SET status = 'pending', retry_count = retry_count + 1, scheduled_for = $now + $4,
          error_message = $5, locked_by = NULL, locked_until = NULL
      WHERE id = $1 AND status = 'processing' AND locked_by = $2 AND attempts = $3
      RETURNING ${RETURNING}`,
      [lease.id, lease.workerId, lease.attempt, wholeMs(delayMs), errorMessage],
      true,
    );
  }

  override async deadLetter(
    lease: Lease,
    errorMessage: string,
  ): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(
      `UPDATE ${this.table}
      SET status = 'failed', completed_at = $now, error_message = $4,
          locked_by = NULL, locked_until = NULL
      WHERE id = $1 AND status = 'processing' AND locked_by = $2 AND attempts = $3
      RETURNING ${RETURNING}`,
      [lease.id, lease.workerId, lease.attempt, errorMessage],
      true,
    );
  }

  override async release(leases: readonly Lease[]): Promise<string[]> {
    return this.updateLeases(
      leases,
      leaseRow,
      LEASE_COLUMNS,
      `status = 'pending', attempts = attempts - 1, started_at = NULL, locked_by = NULL, locked_until = NULL`,
      [],
      // Released commands are due again: let the other instances take them.
      true,
    );
  }

  override async extendLeases(leases: readonly Lease[], leaseMs: number): Promise<string[]> {
    return this.updateLeases(
      leases,
      leaseRow,
      LEASE_COLUMNS,
      `locked_until = $now + $2`,
      [wholeMs(leaseMs)],
      false,
    );
  }

  override async recoverExpiredLeases(limit: number): Promise<LeaseRecovery> {
    const max = Math.floor(limit);
    if (!(max > 0)) return { requeued: [], deadLettered: [] };
    await this.prepare();
    // The message names the worker whose lease ran out: built in SQL around its locked_by.
    const marker = '\u0000';
    const [before, after] = messages.leaseLost(marker).split(marker);
    const lastAttempt = 'attempts > max_retries';
    const rows = await this.rows(
      this.dialect.notifying(`WITH v AS MATERIALIZED (
        SELECT id AS v_id FROM ${this.table}${this.hint(LEASE_INDEX)}
        WHERE status = 'processing' AND locked_until <= $now
        ORDER BY locked_until LIMIT $1${this.dialect.skipLocked}
      )
      UPDATE ${this.table}
      SET status = CASE WHEN ${lastAttempt} THEN 'failed' ELSE 'pending' END,
          completed_at = CASE WHEN ${lastAttempt} THEN $now ELSE NULL END,
          retry_count = CASE WHEN ${lastAttempt} THEN retry_count ELSE retry_count + 1 END,
          scheduled_for = CASE WHEN ${lastAttempt} THEN scheduled_for ELSE $now END,
          error_message = $2 || COALESCE(locked_by, 'unknown') || $3,
          locked_by = NULL, locked_until = NULL
      WHERE id IN (SELECT v_id FROM v) AND ${this.dialect.unindexed('status')} = 'processing'
        AND locked_until <= $now
      RETURNING ${RETURNING}`),
      [max, before, after],
      true,
    );
    const entries = rows.map((row) => toEntry(row)).sort(byIdAsc);
    return {
      requeued: entries.filter((e) => e.status === ScheduledCommandStatus.Pending),
      deadLettered: entries.filter((e) => e.status === ScheduledCommandStatus.Failed),
    };
  }

  override async expireDue(limit: number): Promise<ScheduledCommandEntry[]> {
    const max = Math.floor(limit);
    if (!(max > 0)) return [];
    await this.prepare();
    const rows = await this.rows(
      `WITH v AS MATERIALIZED (
        SELECT id AS v_id FROM ${this.table}${this.hint(EXPIRY_INDEX)}
        WHERE status = 'pending' AND expires_at <= $now
        ORDER BY expires_at LIMIT $1${this.dialect.skipLocked}
      )
      UPDATE ${this.table}
      SET status = 'expired', completed_at = $now
      WHERE id IN (SELECT v_id FROM v) AND ${this.dialect.unindexed('status')} = 'pending'
        AND expires_at <= $now
      RETURNING ${RETURNING}`,
      [max],
      true,
    );
    return rows.map((row) => toEntry(row)).sort(byTimeThenId((entry) => entry.expiresAt));
  }

  override async cancel(id: string): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(
      `UPDATE ${this.table} SET status = 'cancelled', completed_at = $now
      WHERE id = $1 AND status = 'pending'
      RETURNING ${RETURNING}`,
      [id],
      true,
    );
  }

  override async reschedule(id: string, time: ScheduleTime): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    const at = time.scheduledFor !== undefined ? time.scheduledFor.getTime() : null;
    const delay = time.scheduledFor !== undefined ? null : wholeMs(time.delay);
    return this.one(
      this.dialect.notifying(`UPDATE ${this.table} SET scheduled_for = COALESCE($2, $now + $3)
      WHERE id = $1 AND status = 'pending'
      RETURNING ${RETURNING}`),
      [id, at, delay],
    );
  }

  override async requeue(
    id: string,
    fromStatuses: readonly ScheduledCommandStatus[],
  ): Promise<ScheduledCommandEntry | null> {
    const statuses = finishedOnly(fromStatuses);
    if (statuses.length === 0) return null;
    await this.prepare();
    const [entry] = await this.requeueWhere(
      `SELECT id AS v_id FROM ${this.table} c WHERE c.id = $1 AND c.status IN (${statusList(statuses)})`,
      statuses,
      [id],
    );
    return entry ?? null;
  }

  override async requeueMany(
    filter: ScheduledCommandFilter,
    fromStatuses: readonly ScheduledCommandStatus[],
    limit: number,
  ): Promise<ScheduledCommandEntry[]> {
    const max = Math.floor(limit);
    const condition = filterCondition(filter, 2, 'c');
    const statuses = finishedOnly(fromStatuses);
    if (!(max > 0) || statuses.length === 0) return [];
    await this.prepare();
    // Oldest first; among finished entries sharing an idempotency key only the oldest is taken,
    // since the key can have one live holder only.
    const candidates = `SELECT id AS v_id FROM (
        SELECT c.id, c.idempotency_key,
               ROW_NUMBER() OVER (PARTITION BY c.idempotency_key ORDER BY c.id) AS v_rank
        FROM ${this.table} c
        WHERE c.status IN (${statusList(statuses)}) AND ${condition.sql}
          AND ${this.keyIsFree('c')}
      ) r
      WHERE r.idempotency_key IS NULL OR r.v_rank = 1
      ORDER BY id LIMIT $1`;
    const entries = await this.requeueWhere(candidates, statuses, [max, ...condition.params]);
    return entries.sort(byIdAsc);
  }

  override async get(id: string): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    const rows = await this.rows(
      `SELECT ${RETURNING} FROM ${this.table} WHERE id = $1`,
      [id],
      true,
    );
    return rows.length ? toEntry(rows[0]) : null;
  }

  /**
   * Keyset paging on `id` (creation order); `offset` is also accepted.
   *
   * @throws InvalidScheduleOptionsError when `limit` is not an integer in 1..1000, `offset` is not
   *   an integer >= 0, `order` is not `'asc'`/`'desc'`, `cursor` was not returned by this store's
   *   `find()`, both `cursor` and an offset are given, or a filter field is invalid.
   */
  override async find(filter: ScheduledCommandFilter, options?: FindOptions): Promise<FindResult> {
    const page = parseFindOptions(options);
    const condition = filterCondition(filter, 1);
    await this.prepare();
    const params = [...condition.params];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const desc = page.order === 'desc';
    const keyset =
      page.afterId === null ? '' : ` AND id ${desc ? '<' : '>'} ${param(page.afterId)}`;
    // One row more than the page tells whether there is a next page.
    const rows = await this.rows(
      `SELECT ${RETURNING} FROM ${this.table}
      WHERE ${condition.sql}${keyset}
      ORDER BY id ${desc ? 'DESC' : 'ASC'}
      LIMIT ${param(page.limit + 1)} OFFSET ${param(page.offset)}`,
      params,
    );
    const items = rows.slice(0, page.limit).map((row) => toEntry(row));
    const hasMore = rows.length > page.limit;
    return { items, nextCursor: hasMore ? encodeCursor(items[items.length - 1].id) : null };
  }

  override async countByStatus(): Promise<StatusCounts> {
    await this.prepare();
    const rows = await this.rows(
      `SELECT status, COUNT(*) AS v_count FROM ${this.table} GROUP BY status`,
      [],
    );
    const counts = emptyCounts();
    for (const row of rows) {
      const status = row.status as ScheduledCommandStatus;
      if (status in counts) counts[status] = num(row.v_count);
    }
    return counts;
  }

  override async getStatistics(): Promise<ScheduledCommandStatistics> {
    await this.prepare();
    // One statement, so that the figures are a consistent snapshot.
    const rows = await this.rows(
      `SELECT status, COUNT(*) AS v_count,
        MIN(CASE WHEN status = 'pending' THEN scheduled_for END) AS v_oldest,
        SUM(CASE WHEN status = 'pending' AND retry_count > 0 THEN 1 ELSE 0 END) AS v_retrying,
        SUM(CASE WHEN status = 'pending' AND scheduled_for <= $now THEN 1 ELSE 0 END) AS v_due
      FROM ${this.table} GROUP BY status`,
      [],
    );
    const counts = emptyCounts();
    let total = 0;
    let oldest: number | null = null;
    let waitingForRetry = 0;
    let dueNow = 0;
    for (const row of rows) {
      const status = row.status as ScheduledCommandStatus;
      const n = num(row.v_count);
      total += n;
      if (status in counts) counts[status] = n;
      if (status === ScheduledCommandStatus.Pending) {
        oldest = row.v_oldest === null || row.v_oldest === undefined ? null : Number(row.v_oldest);
        waitingForRetry = num(row.v_retrying);
        dueNow = num(row.v_due);
      }
    }
    return {
      counts,
      total,
      oldestPendingScheduledFor: oldest === null ? null : new Date(oldest),
      waitingForRetry,
      dueNow,
    };
  }

  override async purge(request: PurgeRequest): Promise<number> {
    const statuses = finishedOnly(request.statuses);
    const limit = Math.floor(request.limit ?? DEFAULT_PURGE_LIMIT);
    if (statuses.length === 0 || !(limit > 0)) return 0;
    await this.prepare();
    const list = statusList(statuses);
    const { affected } = await this.execute(
      `WITH v AS MATERIALIZED (
        SELECT id AS v_id FROM ${this.table}${this.hint(FINISHED_INDEX)}
        WHERE completed_at IS NOT NULL AND completed_at < $1 AND status IN (${list})
        ORDER BY completed_at LIMIT $2${this.dialect.skipLocked}
      )
      DELETE FROM ${this.table}
      WHERE id IN (SELECT v_id FROM v) AND ${this.dialect.unindexed('status')} IN (${list})`,
      [request.olderThan.getTime(), limit],
    );
    return affected;
  }

  override async msUntilNextDue(): Promise<number | null> {
    await this.prepare();
    // The earliest due time is the smallest of each priority's first entry in the claim index.
    const rows = await this.rows(
      `WITH RECURSIVE ${pendingPrioritiesCte(this.table, this.dialect)}
      SELECT MIN(v_first) - $now AS v_ms FROM (
        SELECT (
          SELECT c.scheduled_for FROM ${this.table} c${this.hint(CLAIM_INDEX)}
          WHERE c.status = 'pending' AND c.priority = priorities.p
          ORDER BY c.priority, c.scheduled_for LIMIT 1
        ) AS v_first
        FROM priorities WHERE priorities.p IS NOT NULL
      ) f`,
      [],
      true,
    );
    const ms = rows[0]?.v_ms;
    return ms === null || ms === undefined ? null : Number(ms);
  }

  // -------------------------------------------------------------------------------------------

  /** Resolves the table and prepares the connection, once. */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      this.table = quoteTableName(this.options.tableName ?? this.entityTablePath());
      this.claimStatement = this.dialect.claimSql(this.table, CLAIM_RETURNING);
      await this.dialect.prepareConnection(this.dataSource);
    })().catch((error: unknown) => {
      // Try again on the next call (the DataSource may not have been initialised yet).
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private entityTablePath(): string {
    try {
      if (this.dataSource.hasMetadata(ScheduledCommandEntity)) {
        return this.dataSource.getMetadata(ScheduledCommandEntity).tablePath;
      }
    } catch {
      // Metadata is built when the DataSource initialises; fall back to the default name.
    }
    return SCHEDULED_COMMANDS_TABLE;
  }

  private hint(index: string): string {
    return this.dialect.indexHint(index);
  }

  /**
   * Runs one statement (`$1..$n`, `$now`) and returns its rows and affected-row count.
   * `fixedText`: the statement's text is the same on every call of this store (no filter or list
   * built into it), so it may run as a named prepared statement.
   */
  private async execute(
    sql: string,
    params: readonly unknown[],
    fixedText = false,
  ): Promise<{ rows: Row[]; affected: number }> {
    const bound = this.dialect.bind(sql, params);
    const runner = this.dataSource.createQueryRunner();
    try {
      if (fixedText && this.preparedStatements) {
        return await this.executePrepared(runner, bound.sql, bound.params);
      }
      const result = await runner.query(bound.sql, bound.params, true);
      const rows = (Array.isArray(result.records) ? result.records : []) as Row[];
      return { rows, affected: result.affected ?? rows.length };
    } finally {
      await runner.release();
    }
  }

  /**
   * Runs a bound statement as a named prepared statement on the runner's `pg` client, logging and
   * wrapping errors in `QueryFailedError` as `QueryRunner.query` does. Skipping `query` saves the
   * planning of the statement on every call, which costs more than running the claim itself.
   */
  private async executePrepared(
    runner: QueryRunner,
    text: string,
    values: unknown[],
  ): Promise<{ rows: Row[]; affected: number }> {
    const client = (await runner.connect()) as PgClient;
    const logger = this.dataSource.logger;
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
    const slow = this.dataSource.options.maxQueryExecutionTime;
    const elapsed = Date.now() - started;
    if (slow && elapsed > slow) logger.logQuerySlow(elapsed, text, values, runner);
    const rows = result.rows ?? [];
    return { rows, affected: result.rowCount ?? rows.length };
  }

  private async rows(sql: string, params: readonly unknown[], fixedText = false): Promise<Row[]> {
    return (await this.execute(sql, params, fixedText)).rows;
  }

  private async one(
    sql: string,
    params: readonly unknown[],
    fixedText = false,
  ): Promise<ScheduledCommandEntry | null> {
    const rows = await this.rows(sql, params, fixedText);
    return rows.length ? toEntry(rows[0]) : null;
  }

  /** True when the row aliased `alias` has no idempotency key, or no live entry holds it. */
  private keyIsFree(alias: string): string {
    return `(${alias}.idempotency_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${this.table} o${this.hint(IDEMPOTENCY_INDEX)}
      WHERE o.idempotency_key = ${alias}.idempotency_key AND o.status IN (${LIVE})))`;
  }

  /**
   * Requeues the rows whose ids `candidates` selects (its parameters start at `$1`). A concurrent
   * insert may take a key between the check and the write; the unique index then rejects the
   * statement and it runs again, now seeing the new holder.
   */
  private async requeueWhere(
    candidates: string,
    statuses: readonly ScheduledCommandStatus[],
    params: readonly unknown[],
  ): Promise<ScheduledCommandEntry[]> {
    const sql = this.dialect.notifying(`WITH v AS MATERIALIZED (${candidates})
      UPDATE ${this.table} AS t
      SET status = 'pending', scheduled_for = $now, retry_count = 0, expires_at = NULL,
          completed_at = NULL, result_payload = NULL, locked_by = NULL, locked_until = NULL
      WHERE ${this.dialect.idInBatch('v')} AND ${this.dialect.unindexed('status')} IN (${statusList(statuses)})
        AND ${this.keyIsFree('t')}
      RETURNING ${RETURNING}`);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.rows(sql, params)).map((row) => toEntry(row));
      } catch (error) {
        if (!this.dialect.isUniqueViolation(error) || attempt >= MAX_REQUEUE_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * A batch update of rows held under the leases of `items` (`row` gives each one's JSON object, with
   * `columns`); returns the ids updated.
   */
  private async updateLeases<T>(
    items: readonly T[],
    row: (item: T) => Record<string, unknown>,
    columns: readonly JsonColumn[],
    assignments: string,
    extraParams: readonly unknown[],
    notify: boolean,
  ): Promise<string[]> {
    const done: string[] = [];
    for (const batch of chunks(items, BATCH_SIZE)) {
      await this.prepare();
      const sql = this.leaseUpdateSql(columns, assignments);
      const rows = await this.rows(
        notify ? this.dialect.notifying(sql) : sql,
        [JSON.stringify(batch.map((item) => row(item))), ...extraParams],
        true,
      );
      for (const updated of rows) done.push(String(updated.id));
    }
    return done;
  }

  /**
   * An update of the rows held under the leases of a batch (`$1`, a JSON array of objects with
   * `columns`, starting with the lease columns), returning the ids updated. The batch is read once
   * into a CTE and the rows are found by primary key (see {@link SqlDialect.idInBatch}), so the
   * plan, prepared once per connection, stays a set of index lookups however large the table grows.
   */
  private leaseUpdateSql(columns: readonly JsonColumn[], assignments: string): string {
    return `WITH batch AS MATERIALIZED (SELECT * FROM ${this.dialect.jsonRows('$1', columns)})
      UPDATE ${this.table} SET ${assignments}
      FROM batch
      WHERE ${this.dialect.idInBatch('batch')} AND id = v_id
        AND ${this.dialect.unindexed('status')} = 'processing'
        AND locked_by = v_worker AND attempts = v_attempt
      RETURNING id`;
  }

  /**
   * Inserts a batch with `ON CONFLICT DO NOTHING` on the live-idempotency-key index, then reads the
   * holders of the keys that were taken. A holder may finish between the two statements (the key is
   * free again): those commands go round once more.
   */
  private async insertBatch(
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
      const inserted = new Set(
        (
          await this.rows(
            this.dialect.notifying(this.insertSql()),
            [JSON.stringify(waiting.map((w) => newRow(w.command)))],
            true,
          )
        ).map((row) => String(row.id)),
      );
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
      const holders = new Map(
        (
          await this.rows(
            `SELECT id, idempotency_key FROM ${this.table}${this.hint(IDEMPOTENCY_INDEX)}
            WHERE status IN (${LIVE})
              AND idempotency_key IN (SELECT v_key FROM ${this.dialect.jsonRows('$1', [{ name: 'v_key', type: 'text' }])})`,
            [JSON.stringify(keys.map((key) => ({ v_key: key })))],
          )
        ).map((row) => [String(row.idempotency_key), String(row.id)]),
      );
      waiting = skipped.filter((w) => {
        const holder = holders.get(w.command.idempotencyKey as string);
        if (holder === undefined) return true;
        results[w.index] = { id: holder, created: false };
        return false;
      });
    }
  }

  private insertSql(): string {
    const due = `COALESCE(v_scheduled_for, $now + v_delay)`;
    return `INSERT INTO ${this.table} (${RETURNING})
      SELECT v_id, v_command_type, v_payload, 'pending', ${due}, v_priority, 0, v_max_retries, 0,
             ${due} + v_expires_after, v_correlation_id, v_metadata, v_idempotency_key, $now,
             NULL, NULL, NULL, NULL, NULL, NULL
      FROM ${this.dialect.jsonRows('$1', NEW_COMMAND_COLUMNS)}
      WHERE true
      ON CONFLICT (idempotency_key) WHERE status IN (${LIVE}) AND idempotency_key IS NOT NULL
      DO NOTHING
      RETURNING id`;
  }
}

/** The JSON object of one new command for the insert statement. */
function newRow(command: NewScheduledCommand): Record<string, unknown> {
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
  };
}

function emptyCounts(): StatusCounts {
  return Object.fromEntries(
    SCHEDULED_COMMAND_STATUSES.map((status) => [status, 0]),
  ) as StatusCounts;
}
