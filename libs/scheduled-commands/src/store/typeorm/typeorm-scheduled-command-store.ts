import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../clock.js';
import { SCHEDULED_COMMANDS_TABLE } from '../../scheduled-commands.constants.js';
import { RecurringNotSupportedError } from '../../errors/recurring-not-supported.error.js';
import { messages } from '../../scheduled-commands.messages.js';
import { byIdAsc, byTimeThenId, claimOrder } from '../entry-order.js';
import { encodeCursor, parseFindOptions } from '../find-options.js';
import {
  FINISHED_STATUSES,
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
import { DEFAULT_PURGE_LIMIT, exactCountLimit } from '../status-counts.js';
import { OneStatementSqlDialect } from './dialects/one-statement-dialect.js';
import type { SqlDialect } from './dialects/sql-dialect.js';
import { filterCondition, findConditions } from './find-query.js';
import { insertCommands, requeueRetryingKeyRaces, updateLeasesAtomically } from './batch-writes.js';
import { leaseRow, toEntry, statisticsOf, wholeMs, type ClaimedBy, type Row } from './row-codec.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { selectDialect } from './select-dialect.js';
import { NO_LOWER_BOUND } from './sql/claim-sql.js';
import { findSql } from './sql/query-sql.js';
import { requeueManyCandidates, requeueOneCandidates } from './sql/requeue-sql.js';
import { workerStatements } from './sql/statements.js';
import { oneStatement, type StoreStatement, type StoreStatements } from './sql/store-statement.js';
import { StatementExecutor, type StatementRunner } from './statement-executor.js';
import type {
  DueRecurring,
  RecurringMaterialization,
  RecurringScheduleRecord,
  RecurringWrite,
} from '../recurring-schedule-record.js';
import { recurringStatements, type RecurringStatements } from './recurring-statements.js';
import { recurringTableOf, TypeOrmRecurring } from './typeorm-recurring.js';
import type { TypeOrmScheduledCommandStoreOptions } from './typeorm-store-options.js';
import type { JoinTransactionOptions, StoreTransaction } from '../store-transaction.js';
import { joinTypeOrmTransaction } from './transaction/join-transaction.js';

export type { TypeOrmScheduledCommandStoreOptions } from './typeorm-store-options.js';

/** The statuses of `wanted` an entry can be requeued or purged from (never pending or processing). */
const finishedOnly = (wanted: readonly ScheduledCommandStatus[]): ScheduledCommandStatus[] =>
  FINISHED_STATUSES.filter((status) => wanted.includes(status));

/** A handle for a store that cannot notify other instances: it never calls back. */
const NO_WATCH: StoreWatch = { close: async () => {} };

/**
 * The {@link ScheduledCommandStore} on a TypeORM `DataSource`: SQLite (better-sqlite3), PostgreSQL,
 * or MySQL 8.0.1+/MariaDB 10.6+ (`mysql` or `mariadb`), in the table of
 * {@link ScheduledCommandEntity} (create it with `synchronize` or the shipped migrations, see
 * `scheduledCommandsMigrations()`; on MySQL/MariaDB only the migration, which the store checks).
 *
 * Every operation is one SQL statement (on MySQL/MariaDB one short READ COMMITTED transaction that
 * locks its rows, updates them by primary key and reads them back, run again when InnoDB picks it as
 * a deadlock victim, see {@link deadlocks}) that checks the row's status and lease in its `WHERE`
 * clause, so races have exactly one winner. Batches travel as one JSON parameter per statement of
 * up to 1,000 rows; a batch that needs more than one statement runs in one transaction, all or
 * nothing. Claims lock rows with `FOR UPDATE SKIP LOCKED` where the database has it and read only
 * the due part of each priority's range of a partial index.
 *
 * The database clock decides what is due on PostgreSQL and MySQL/MariaDB; on SQLite the injected
 * `Clock` is the store's clock (a write holds the file's write lock, so several processes may share
 * it; the store sets a busy timeout and WAL, see
 * {@link TypeOrmScheduledCommandStoreOptions.configureSqlite}; TypeORM gives a SQLite DataSource one
 * connection, so worker statements wait while a transaction is open on it). PostgreSQL runs the
 * statements of every poll as named prepared statements and notifies other instances (see
 * {@link watch}).
 *
 * The class coordinates: the SQL is built by the pure builders in `sql/` for the dialect in
 * `dialects/`, rows are read by `row-codec.ts`, and statements run through `statement-executor.ts`.
 *
 * @throws ScheduledCommandsError from the constructor when the DataSource type is not supported.
 */
export class TypeOrmScheduledCommandStore extends ScheduledCommandStore {
  private readonly dialect: SqlDialect;
  private executor: StatementExecutor;
  private ready: Promise<void> | undefined;
  private table = '';
  /** The fixed statements, built on first use (see {@link prepare}). */
  private sql!: StoreStatements;
  /** The recurring schedules' statements; none on MySQL/MariaDB, which has no recurring schema yet. */
  private recurringSql: RecurringStatements | undefined;
  private readonly recurring: TypeOrmRecurring;

  /**
   * @param dataSource an initialised (or soon initialised) TypeORM DataSource of a supported type
   * @param clock the store's clock on SQLite; the other databases use their own clock
   * @param options see {@link TypeOrmScheduledCommandStoreOptions}
   */
  constructor(
    private readonly dataSource: DataSource,
    clock: Clock,
    private readonly options: TypeOrmScheduledCommandStoreOptions = {},
  ) {
    super();
    this.dialect = selectDialect(dataSource, clock, options);
    this.executor = new StatementExecutor(dataSource, this.dialect);
    this.recurring = new TypeOrmRecurring(this.executor, () => this.recurringSqlOrFail());
  }

  /**
   * MySQL/MariaDB: the transactions run again because InnoDB chose them as deadlock victims
   * (`retried`), and those given up on after the last attempt (`gaveUp`), since the store was made.
   * Always zero on the other databases, whose store operations cannot deadlock.
   */
  get deadlocks(): { retried: number; gaveUp: number } {
    const counter = this.dialect.deadlocks;
    return { retried: counter?.retried ?? 0, gaveUp: counter?.gaveUp ?? 0 };
  }

  /**
   * PostgreSQL: `LISTEN scheduled_commands` on a dedicated connection built from the DataSource's
   * options; `onScheduled` runs whenever any instance schedules, reschedules, requeues or releases a
   * command. A dropped connection is re-opened with exponential backoff (100 ms doubling up to 10 s),
   * then `onScheduled` runs once for what may have been missed. SQLite and MySQL/MariaDB cannot
   * notify other processes: the handle never calls back.
   */
  override async watch(onScheduled: () => void): Promise<StoreWatch> {
    return this.dialect.watch ? this.dialect.watch(onScheduled) : NO_WATCH;
  }

  override async schedule(command: NewScheduledCommand): Promise<ScheduleResult> {
    const [result] = await this.scheduleMany([command]);
    return result;
  }

  /** All or nothing: several commands are inserted in one transaction (see the class). */
  override async scheduleMany(commands: readonly NewScheduledCommand[]): Promise<ScheduleResult[]> {
    await this.prepare();
    const insertAll = (runner: StatementRunner) => insertCommands(runner, this.sql, commands);
    return commands.length > 1 ? this.executor.transaction(insertAll) : insertAll(this.executor);
  }

  /** Runs its writes on the query runner of `manager`'s transaction (see `joinTypeOrmTransaction`). */
  override joinTransaction(manager: unknown, options: JoinTransactionOptions = {}) {
    return joinTypeOrmTransaction(this.dataSource, manager, options, (runner) => {
      const view = Object.create(this) as TypeOrmScheduledCommandStore;
      view.executor = this.executor.joined(runner);
      return view;
    }) satisfies StoreTransaction | null;
  }

  /** `dataSource.transaction(work)`, on SQLite apart from the store's other statements. */
  override withTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.executor.applicationTransaction(work);
  }

  override async claim(request: ClaimRequest): Promise<ScheduledCommandEntry[]> {
    const limit = Math.floor(request.limit);
    if (!(limit > 0)) return [];
    await this.prepare();
    const from = request.scheduledFrom?.getTime();
    const { workerId } = request;
    const leaseMs = wholeMs(request.leaseMs);
    const rows = await this.rows(this.sql.claim, [
      workerId,
      limit,
      leaseMs,
      from !== undefined && Number.isFinite(from) ? from : NO_LOWER_BOUND,
    ]);
    const claimed: ClaimedBy = { workerId, leaseMs };
    const entries = new Array<ScheduledCommandEntry>(rows.length);
    for (let i = 0; i < rows.length; i++) entries[i] = toEntry(rows[i], claimed);
    return entries.sort(claimOrder);
  }

  override async complete(completions: readonly Completion[]): Promise<string[]> {
    return this.updateLeases(
      completions,
      ({ lease, resultPayload }) => leaseRow(lease, resultPayload),
      () => this.sql.complete,
      [],
    );
  }

  override async retry(
    lease: Lease,
    errorMessage: string,
    delayMs: number,
  ): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(this.sql.retry, [
      lease.id,
      lease.workerId,
      lease.attempt,
      wholeMs(delayMs),
      errorMessage,
    ]);
  }

  override async deadLetter(
    lease: Lease,
    errorMessage: string,
  ): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(this.sql.deadLetter, [lease.id, lease.workerId, lease.attempt, errorMessage]);
  }

  override async release(leases: readonly Lease[]): Promise<string[]> {
    // The statement notifies: released commands are due again, for the other instances too.
    return this.updateLeases(leases, leaseRow, () => this.sql.release, []);
  }

  override async extendLeases(leases: readonly Lease[], leaseMs: number): Promise<string[]> {
    return this.updateLeases(leases, leaseRow, () => this.sql.extendLeases, [wholeMs(leaseMs)]);
  }

  override async recoverExpiredLeases(limit: number): Promise<LeaseRecovery> {
    const max = Math.floor(limit);
    if (!(max > 0)) return { requeued: [], deadLettered: [] };
    await this.prepare();
    // The message names the worker whose lease ran out: built in SQL around its locked_by.
    const marker = '\u0000';
    const [before, after] = messages.leaseLost(marker).split(marker);
    const rows = await this.rows(this.sql.recoverExpiredLeases, [max, before, after]);
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
    const rows = await this.rows(this.sql.expireDue, [max]);
    return rows.map((row) => toEntry(row)).sort(byTimeThenId((entry) => entry.expiresAt));
  }

  override async cancel(id: string): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(this.sql.cancel, [id]);
  }

  override async reschedule(id: string, time: ScheduleTime): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    const at = time.scheduledFor !== undefined ? time.scheduledFor.getTime() : null;
    const delay = time.scheduledFor !== undefined ? null : wholeMs(time.delay);
    return this.one(this.sql.reschedule, [id, at, delay]);
  }

  override async requeue(
    id: string,
    fromStatuses: readonly ScheduledCommandStatus[],
  ): Promise<ScheduledCommandEntry | null> {
    const statuses = finishedOnly(fromStatuses);
    if (statuses.length === 0) return null;
    await this.prepare();
    const candidates = requeueOneCandidates(this.table, statuses);
    const [entry] = await this.requeue_(candidates, statuses, [id]);
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
    const candidates = requeueManyCandidates(this.table, this.dialect, statuses, condition);
    const entries = await this.requeue_(candidates, statuses, [max, ...condition.params]);
    return entries.sort(byIdAsc);
  }

  override async get(id: string): Promise<ScheduledCommandEntry | null> {
    await this.prepare();
    return this.one(this.sql.get, [id]);
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
    const condition = findConditions(filter, this.dialect.partialIndexes);
    await this.prepare();
    const statement = findSql(this.table, condition, page);
    const rows = await this.rows(oneStatement(statement.sql), statement.params);
    const items = rows.slice(0, page.limit).map((row) => toEntry(row));
    const hasMore = rows.length > page.limit;
    return { items, nextCursor: hasMore ? encodeCursor(items[items.length - 1].id) : null };
  }

  override async countByStatus(): Promise<StatusCounts> {
    await this.prepare();
    return statisticsOf(await this.rows(this.sql.countByStatus, [])).counts;
  }

  override async getStatistics(): Promise<ScheduledCommandStatistics> {
    await this.prepare();
    return statisticsOf(await this.rows(this.sql.statistics, []));
  }

  /** The dialect's estimate past `exactUpTo` where it has one (PostgreSQL); exact counts otherwise. */
  override async estimateStatistics(exactUpTo?: number) {
    if (!this.dialect.estimateStatistics) return super.estimateStatistics(exactUpTo);
    const limit = exactCountLimit(exactUpTo);
    await this.prepare();
    return this.dialect.estimateStatistics(this.executor, this.table, limit);
  }

  override async purge(request: PurgeRequest): Promise<number> {
    const statuses = finishedOnly(request.statuses);
    const limit = Math.floor(request.limit ?? DEFAULT_PURGE_LIMIT);
    if (statuses.length === 0 || !(limit > 0)) return 0;
    await this.prepare();
    const purge = this.dialect.purge(this.table, statuses);
    const { affected } = await purge.run(this.executor, [request.olderThan.getTime(), limit]);
    return affected;
  }

  override async msUntilNextDue(): Promise<number | null> {
    await this.prepare();
    const rows = await this.rows(this.sql.nextDue, []);
    const ms = rows[0]?.v_ms;
    return ms === null || ms === undefined ? null : Number(ms);
  }

  override async writeRecurring(write: RecurringWrite): Promise<RecurringScheduleRecord | null> {
    return this.prepare().then(() => this.recurring.write(write));
  }

  override async removeRecurring(name: string): Promise<boolean> {
    return this.prepare().then(() => this.recurring.remove(name));
  }

  override async getRecurring(name: string): Promise<RecurringScheduleRecord | null> {
    return this.prepare().then(() => this.recurring.get(name));
  }

  override async listRecurring(): Promise<RecurringScheduleRecord[]> {
    return this.prepare().then(() => this.recurring.list());
  }

  override async dueRecurring(horizonMs: number): Promise<DueRecurring> {
    return this.prepare().then(() => this.recurring.due(horizonMs));
  }

  override async materializeRecurring(m: RecurringMaterialization): Promise<string[] | null> {
    return this.prepare().then(() => this.recurring.materialize(m));
  }

  // -------------------------------------------------------------------------------------------

  /** The recurring schedules' statements, or a `RecurringNotSupportedError` on MySQL/MariaDB. */
  private recurringSqlOrFail(): RecurringStatements {
    if (this.recurringSql) return this.recurringSql;
    throw new RecurringNotSupportedError(
      messages.recurringNotSupported(`${this.constructor.name} on ${this.dialect.name}`),
    );
  }

  /** Resolves the table, builds the statements and prepares the connection, once. */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      const tableName = this.options.tableName ?? this.entityTablePath();
      this.table = this.dialect.quoteTable(tableName);
      this.sql = this.dialect.statements(this.table);
      this.executor.holdBackDuringApplicationTransactions(workerStatements(this.sql));
      const recurringTable = recurringTableOf(this.dataSource, this.table);
      if (this.dialect instanceof OneStatementSqlDialect) {
        this.recurringSql = recurringStatements(this.dialect, this.table, recurringTable);
      }
      await this.dialect.prepareConnection(this.dataSource, tableName);
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

  private async rows(statement: StoreStatement, params: readonly unknown[]): Promise<Row[]> {
    return (await statement.run(this.executor, params)).rows;
  }

  private async one(
    statement: StoreStatement,
    params: readonly unknown[],
  ): Promise<ScheduledCommandEntry | null> {
    const rows = await this.rows(statement, params);
    return rows.length ? toEntry(rows[0]) : null;
  }

  /** Requeues the rows `candidates` selects (see {@link requeueRetryingKeyRaces}). */
  private requeue_(
    candidates: string,
    statuses: readonly ScheduledCommandStatus[],
    params: readonly unknown[],
  ): Promise<ScheduledCommandEntry[]> {
    const statement = this.dialect.requeue(this.table, candidates, statuses);
    return requeueRetryingKeyRaces(this.executor, this.dialect, statement, params);
  }

  /** A batch lease update (see {@link updateLeasesAtomically}); returns the ids updated. */
  private async updateLeases<T>(
    items: readonly T[],
    row: (item: T) => Record<string, unknown>,
    statement: () => StoreStatement,
    extraParams: readonly unknown[],
  ): Promise<string[]> {
    if (items.length === 0) return [];
    await this.prepare();
    return updateLeasesAtomically(this.executor, statement(), items, row, extraParams);
  }
}
