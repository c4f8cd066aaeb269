/**
 * Our library in one benchmark process: a real Nest application context with `CqrsModule`,
 * `TypeOrmModule` (PostgreSQL or SQLite), `ScheduledCommandsModule` and a no-op `@CommandHandler`
 * that returns the command's sequence number (stored as the command's result). It imports
 * `nestjs-scheduled-commands` by its package name, i.e. the built package (`npm run build` first).
 *
 * Plain JavaScript run by Node as is, so decorators are applied as functions.
 *
 * Driven by `bench/run.mjs` over IPC (protocol: `bench/lib/child.mjs`); configured by environment:
 * - `BENCH_ROLE`: `setup` (create the schema, then serve requests without a worker), `client`
 *   (schedule on request, no worker), `worker` (run commands), `both` (schedule and run).
 * - `BENCH_DB`: `postgres`, `mariadb` or `sqlite`; `BENCH_URL`: connection URL or SQLite file
 *   (MariaDB: the `setup` role creates the table with the shipped migrations).
 * - `BENCH_BATCH`, `BENCH_CONCURRENCY`, `BENCH_POLL`: module options `batchSize`, `concurrency`,
 *   `pollingInterval`.
 * - `BENCH_WAIT_GO=1`: import everything, report `loaded`, and start the application only on `go`.
 * - `BENCH_CAPTURE_CLAIM=1`: report the SQL text of the first claim and of the first completion
 *   statement (`claim-sql` and `complete-sql` events).
 * - `BENCH_COUNT_QUERIES=1`: count statements by store operation (`queryCounts` request).
 * - `BENCH_REPORT_STARTS=1`: report every handler start (lateness / latency samples).
 * - `BENCH_RETENTION_MS`, `BENCH_MAINTENANCE_MS`: module options `retention.completed` and
 *   `maintenanceInterval` (the soak scenario); the library's defaults otherwise.
 * - `BENCH_OTEL`: `off` (telemetry disabled), `sdk` (an OpenTelemetry SDK registered: tracing with a
 *   batch processor and an exporter that drops the spans, the AsyncLocalStorage context manager, and
 *   metrics), `sdk-no-context` (the same without the context manager), anything else or unset: the
 *   default (no SDK).
 * - `BENCH_TX_HANDLER=1`: the no-op handler returns through `context.transaction()` (its work writes
 *   nothing; the completion is the transaction's only statement), for the transactions scenario.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandHandler, CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CommandScheduler,
  getScheduledCommandContext,
  ScheduledCommand,
  ScheduledCommandsModule,
  scheduledCommandsMigrations,
} from 'nestjs-scheduled-commands';
import { DataSource } from 'typeorm';
import { inChunks, intEnv, now, Probe, send, serve, waitForGo } from './lib/child.mjs';

const env = process.env;
const role = env.BENCH_ROLE ?? 'worker';
const runsCommands = role === 'worker' || role === 'both';
const probe = new Probe();
/** Read once: `process.env` is a lookup in the environment on every read, which a no-op handler would measure. */
const txHandler = env.BENCH_TX_HANDLER === '1';

/** The benchmark's command: `seq` numbers it; `dueAt` / `sentAt` (epoch ms) carry timing probes. */
class NoopCommand extends Command {
  constructor(seq, dueAt, sentAt) {
    super();
    this.seq = seq;
    if (dueAt !== undefined && dueAt !== null) this.dueAt = dueAt;
    if (sentAt !== undefined && sentAt !== null) this.sentAt = sentAt;
  }
}
ScheduledCommand('bench-noop')(NoopCommand);

/** No work: records the start and returns the sequence number, which the library stores as the result. */
class NoopHandler {
  async execute(command) {
    probe.started(command);
    if (txHandler) return getScheduledCommandContext(command).transaction(async () => command.seq);
    return command.seq;
  }
}
CommandHandler(NoopCommand)(NoopHandler);

/** The recurring scenario's command: one occurrence per fire time of its schedule. */
class TickCommand extends Command {}
ScheduledCommand('bench-tick')(TickCommand);

/** Handler starts of the occurrences: `[commandId, epoch ms]`, matched to their fire times later. */
const tickStarts = [];
class TickHandler {
  async execute(command) {
    tickStarts.push([getScheduledCommandContext(command).commandId, now()]);
  }
}
CommandHandler(TickCommand)(TickHandler);

/** Which store operation a statement belongs to, for the round-trip counts. */
function statementKind(query) {
  if (/FOR UPDATE SKIP LOCKED/.test(query) && /SET status = 'processing'/.test(query))
    return 'claim';
  if (/SET status = 'completed'/.test(query)) return 'complete';
  if (/SELECT MIN\(v_first\)/.test(query)) return 'msUntilNextDue';
  if (/locked_until <= /.test(query) && /status = 'processing'/.test(query))
    return 'recoverExpiredLeases';
  if (/SET status = 'expired'/.test(query)) return 'expireDue';
  if (/^\s*INSERT INTO/i.test(query) || /INSERT INTO/.test(query)) return 'insert';
  if (/SET locked_until = /.test(query)) return 'extendLeases';
  return query.trim().split(/\s+/).slice(0, 3).join(' ');
}

/**
 * TypeORM logger of the profiling options: hands the text of the first claim statement to the
 * parent (`BENCH_CAPTURE_CLAIM=1`) and counts statements by store operation (`BENCH_COUNT_QUERIES=1`).
 */
class StatementProbe {
  captured = new Set();
  counts = {};
  logQuery(query) {
    const kind = statementKind(query);
    if (env.BENCH_COUNT_QUERIES === '1') this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (
      (kind === 'claim' || kind === 'complete') &&
      !this.captured.has(kind) &&
      env.BENCH_CAPTURE_CLAIM === '1'
    ) {
      this.captured.add(kind);
      send({ event: `${kind}-sql`, sql: query });
    }
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}
const statementProbe = new StatementProbe();

function typeOrmOptions() {
  const common = { autoLoadEntities: true, synchronize: role === 'setup', logging: false };
  if (env.BENCH_CAPTURE_CLAIM === '1' || env.BENCH_COUNT_QUERIES === '1')
    common.logger = statementProbe;
  if (env.BENCH_DB === 'sqlite')
    return { ...common, type: 'better-sqlite3', database: env.BENCH_URL };
  if (env.BENCH_DB === 'mariadb')
    return {
      ...common,
      type: 'mariadb',
      url: env.BENCH_URL,
      synchronize: false,
      migrations: scheduledCommandsMigrations('mariadb'),
      migrationsRun: role === 'setup',
    };
  return { ...common, type: 'postgres', url: env.BENCH_URL, applicationName: `bench-ours-${role}` };
}

class BenchAppModule {}
Module({
  imports: [
    CqrsModule.forRoot(),
    TypeOrmModule.forRoot(typeOrmOptions()),
    ScheduledCommandsModule.forRoot({
      enabled: runsCommands,
      batchSize: intEnv('BENCH_BATCH', 250),
      concurrency: intEnv('BENCH_CONCURRENCY', 500),
      pollingInterval: intEnv('BENCH_POLL', 1_000),
      ...(env.BENCH_WORKER_ID ? { workerId: env.BENCH_WORKER_ID } : {}),
      ...(env.BENCH_RETENTION_MS ? { retention: { completed: intEnv('BENCH_RETENTION_MS') } } : {}),
      ...(env.BENCH_MAINTENANCE_MS ? { maintenanceInterval: intEnv('BENCH_MAINTENANCE_MS') } : {}),
      // The gauge's store reads are not what this measures.
      telemetry: { enabled: env.BENCH_OTEL !== 'off', statusGaugeInterval: 0 },
    }),
  ],
  providers: [NoopHandler, TickHandler],
})(BenchAppModule);

if (env.BENCH_OTEL === 'sdk' || env.BENCH_OTEL === 'sdk-no-context')
  await registerOpenTelemetrySdk();

/** The SDK of `BENCH_OTEL=sdk`: spans and metrics are recorded, then dropped (no exporter I/O). */
async function registerOpenTelemetrySdk() {
  const { context, metrics, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const {
    MeterProvider,
    PeriodicExportingMetricReader,
    InMemoryMetricExporter,
    AggregationTemporality,
  } = await import('@opentelemetry/sdk-metrics');
  const dropSpans = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  if (env.BENCH_OTEL === 'sdk')
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] }),
  );
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 60_000,
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
}

send({ event: 'loaded' });
if (env.BENCH_WAIT_GO === '1') await waitForGo();

const app = await NestFactory.createApplicationContext(BenchAppModule, {
  logger: ['error', 'warn'],
  abortOnError: false,
});
const scheduler = app.get(CommandScheduler);
const dataSource = app.get(DataSource);

/** The transactions scenario's table of business rows. */
const createRowsTable = () =>
  dataSource.query(
    'CREATE TABLE IF NOT EXISTS bench_rows (id bigint PRIMARY KEY, email varchar(100) NOT NULL)',
  );

/** The transactions scenario's business row, written with (or without) the scheduled command. */
const insertRow = (manager, id) =>
  manager.query(
    `INSERT INTO bench_rows (id, email) VALUES (${Number(id)}, 'user${Number(id)}@example.com')`,
  );

const scheduleItems = (items) =>
  scheduler.scheduleMany(
    items.map(({ seq, dueAt }) => ({
      command: new NoopCommand(seq, dueAt),
      options:
        dueAt === null || dueAt === undefined ? undefined : { scheduledFor: new Date(dueAt) },
    })),
  );

serve(
  {
    /** `count` commands with `scheduleMany`, `chunk` per call; all due at `dueAt` (or now). */
    scheduleBulk: ({ count, chunk = 1_000, startSeq = 0, dueAt = null }) =>
      inChunks(count, chunk, startSeq, dueAt, scheduleItems),
    /** One `scheduleMany` call per `chunk` of the given due times. */
    scheduleTimes: async ({ times, startSeq = 0, chunk = 1_000 }) => {
      const t0 = now();
      for (let from = 0; from < times.length; from += chunk) {
        await scheduleItems(
          times.slice(from, from + chunk).map((dueAt, i) => ({ seq: startSeq + from + i, dueAt })),
        );
      }
      return now() - t0;
    },
    /** `count` commands due now, one `schedule()` call after the other. */
    scheduleSequential: async ({ count, startSeq = 0 }) => {
      const t0 = now();
      for (let i = 0; i < count; i++) await scheduler.schedule(new NoopCommand(startSeq + i));
      return now() - t0;
    },
    /** One command due now, carrying the time just before `schedule()` was called. */
    scheduleNow: async ({ seq }) => {
      const sentAt = now();
      await scheduler.schedule(new NoopCommand(seq, null, sentAt));
      return sentAt;
    },
    /**
     * `rate` commands per second due now for `seconds`, one `scheduleMany` call every 100 ms (each
     * tick catches up with the schedule: a slow call does not lower the rate). Returns how many.
     */
    scheduleAtRate: async ({ rate, seconds, startSeq = 0 }) => {
      const t0 = now();
      let sent = 0;
      for (let tick = 1; tick <= seconds * 10; tick++) {
        const due = Math.round((rate * tick) / 10);
        if (due > sent) {
          await inChunks(due - sent, 1_000, startSeq + sent, null, scheduleItems);
          sent = due;
        }
        const wait = t0 + tick * 100 - now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      return sent;
    },
    /** Starts a recurring schedule of `TickCommand` (forgetting earlier starts). */
    startRecurring: async ({ name, cron }) => {
      tickStarts.length = 0;
      await scheduler.scheduleRecurring(name, new TickCommand(), { cron });
    },
    /**
     * Removes the schedule and returns, per occurrence started so far, its handler start minus its
     * fire time (the entry's `scheduledFor`) in ms, read from the store after the fact.
     */
    recurringLateness: async ({ name }) => {
      await scheduler.removeRecurring(name);
      const late = [];
      for (const [id, startedAt] of tickStarts) {
        const entry = await scheduler.getStatus(id);
        if (entry) late.push(startedAt - entry.scheduledFor.getTime());
      }
      return late;
    },
    /**
     * `count` pairs of transactions, alternating: one inserting a row, one inserting a row and
     * scheduling a command due now with `manager`. Returns the ms of each, `{ plain, withSchedule }`.
     */
    transactionCost: async ({ count, startSeq = 0 }) => {
      await createRowsTable();
      const plain = [];
      const withSchedule = [];
      for (let i = 0; i < count; i++) {
        const seq = startSeq + 2 * i;
        let t0 = now();
        await dataSource.transaction((manager) => insertRow(manager, seq));
        plain.push(now() - t0);
        t0 = now();
        await dataSource.transaction(async (manager) => {
          await insertRow(manager, seq + 1);
          await scheduler.schedule(new NoopCommand(seq + 1), { manager });
        });
        withSchedule.push(now() - t0);
      }
      return { plain, withSchedule };
    },
    /**
     * One transaction inserting a row and scheduling a command due now with `manager`; the command
     * carries the time just before the transaction began. Returns that time and when it committed.
     */
    scheduleInTransaction: async ({ seq }) => {
      await createRowsTable();
      const sentAt = now();
      await dataSource.transaction(async (manager) => {
        await insertRow(manager, seq);
        await scheduler.schedule(new NoopCommand(seq, null, sentAt), { manager });
      });
      return { sentAt, committedAt: now() };
    },
    /** Statements sent so far, by store operation (with `BENCH_COUNT_QUERIES=1`). */
    queryCounts: async () => statementProbe.counts,
    stop: async () => {
      await app.close();
    },
  },
  probe,
);
send({ event: 'ready' });
