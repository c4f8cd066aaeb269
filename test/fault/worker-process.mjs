/**
 * One application instance for the multi-process fault tests: a real Nest application context
 * (`CqrsModule.forRoot()`, `TypeOrmModule.forRoot(...)`, `ScheduledCommandsModule.forRoot(...)` and a
 * `@CommandHandler`) that imports the library by its package name, i.e. the built package.
 *
 * Plain JavaScript run by Node as is, so decorators are applied as functions.
 *
 * Started by `test/fault/support/processes.ts` with an IPC channel; configured by environment variables:
 * - `FAULT_MODE`: `setup` (create the schema, then exit), `schedule` (schedule `FAULT_COUNT`
 *   commands with `scheduleMany`, then exit) or `worker` (run commands until SIGTERM).
 * - `FAULT_DB`: `postgres`, `mariadb` or `sqlite`; `FAULT_DB_URL`: the connection URL or the SQLite
 *   file. On MariaDB the setup instance creates the table with the shipped migrations.
 * - `FAULT_WORKER_ID`: the instance's worker id (also its PostgreSQL `application_name`).
 * - `FAULT_CONCURRENCY`, `FAULT_BATCH_SIZE`, `FAULT_LEASE_MS`, `FAULT_POLL_MS`: module options.
 * - `FAULT_HANDLER_MS`: how long each handler takes (0: returns at once).
 * - `FAULT_RUN_LOG`: file to which the handler appends one line per run: `S <id> <seq> <attempt>`
 *   when it starts, `E <id> <seq>` when it returns. Written synchronously, so a SIGKILL loses nothing
 *   that was written before it.
 * - `FAULT_COUNT`, `FAULT_CHUNK`: commands to schedule and how many per `scheduleMany` call.
 * - `FAULT_EFFECTS`: when set, the handler inserts one row `(command_id, seq, worker)` into the table
 *   `fault_effects` before it waits `FAULT_HANDLER_MS`: `plain` on its own (committed at once), or
 *   `transaction` inside `getScheduledCommandContext(command).transaction(...)`, which also completes
 *   the command in that transaction.
 * - `FAULT_KILL_AT_RUN`: the instance sends itself SIGKILL in its n-th handler, after logging the
 *   start and writing the effect row (if any), before the wait: a crash sure to find commands claimed
 *   and not finished, one of them with its effect written (committed, or in its open transaction).
 * - `FAULT_RECURRING`: JSON options of a recurring schedule `fault-recurring` declared in the module
 *   options; its handler appends `R <id>` per run to `FAULT_RUN_LOG` + `.recurring`.
 *
 * Reports to the parent through IPC: `{ event: 'ready' }`, then every 100 ms
 * `{ event: 'stats', held, started, finished }`; `{ event: 'scheduled', count, ms }` in schedule mode.
 * Exits when the parent goes away, so no instance outlives a test run.
 */
import 'reflect-metadata';
import { closeSync, openSync, writeSync } from 'node:fs';
import { Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandHandler, CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ScheduledCommandsWorker,
  CommandScheduler,
  getScheduledCommandContext,
  ScheduledCommand,
  ScheduledCommandsModule,
  scheduledCommandsMigrations,
} from 'nestjs-scheduled-commands';

const env = process.env;
const mode = env.FAULT_MODE ?? 'worker';
const workerId = env.FAULT_WORKER_ID ?? `fault-${process.pid}`;
const int = (name, fallback) => (env[name] === undefined ? fallback : Number(env[name]));
const handlerMs = int('FAULT_HANDLER_MS', 0);
const killAtRun = int('FAULT_KILL_AT_RUN', 0);
const effects = env.FAULT_EFFECTS;
const INSERT_EFFECT = 'INSERT INTO fault_effects (command_id, seq, worker) VALUES ($1, $2, $3)';

const send = (message) => {
  if (process.connected) process.send(message);
};
// The parent test is gone (crashed or killed): do not keep polling a database nobody watches.
process.on('disconnect', () => process.exit(1));

/** The command every fault scenario schedules: `seq` numbers them 0..N-1. */
class FaultCommand extends Command {
  constructor(seq) {
    super();
    this.seq = seq;
  }
}
ScheduledCommand('fault-run')(FaultCommand);

/** Token of the run journal the handler writes to. */
const RUN_LOG = Symbol('RUN_LOG');

/** Appends run records to the per-process file, synchronously. */
class RunLog {
  started = 0;
  finished = 0;
  constructor(file) {
    this.fd = file ? openSync(file, 'a') : undefined;
  }
  write(line) {
    if (this.fd !== undefined) writeSync(this.fd, `${line}\n`);
  }
  close() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

class FaultHandler {
  constructor(log, dataSource) {
    this.log = log;
    this.dataSource = dataSource;
  }
  async execute(command) {
    const context = getScheduledCommandContext(command);
    if (!(command instanceof FaultCommand) || !Number.isInteger(command.seq) || !context) {
      throw new Error(`handler received ${JSON.stringify(command)} without a scheduled context`);
    }
    const run = ++this.log.started;
    this.log.write(`S ${context.commandId} ${command.seq} ${context.attempt}`);
    const effect = [context.commandId, command.seq, workerId];
    const work = async (manager) => {
      if (effects) await manager.query(INSERT_EFFECT, effect);
      if (run === killAtRun) process.kill(process.pid, 'SIGKILL');
      if (handlerMs > 0) await new Promise((resolve) => setTimeout(resolve, handlerMs));
      return command.seq;
    };
    const result =
      effects === 'transaction'
        ? await context.transaction(work)
        : await work(this.dataSource.manager);
    this.log.write(`E ${context.commandId} ${command.seq}`);
    this.log.finished++;
    return result;
  }
}
CommandHandler(FaultCommand)(FaultHandler);
Inject(RUN_LOG)(FaultHandler, undefined, 0);
Inject(DataSource)(FaultHandler, undefined, 1);

/** The command of the recurring schedule `fault-recurring`. */
class RecurringFaultCommand extends Command {}
ScheduledCommand('fault-recurring')(RecurringFaultCommand);

class RecurringFaultHandler {
  constructor() {
    this.fd = env.FAULT_RUN_LOG ? openSync(`${env.FAULT_RUN_LOG}.recurring`, 'a') : undefined;
  }
  async execute(command) {
    const context = getScheduledCommandContext(command);
    if (this.fd !== undefined) writeSync(this.fd, `R ${context?.commandId}\n`);
  }
}
CommandHandler(RecurringFaultCommand)(RecurringFaultHandler);

const recurring = env.FAULT_RECURRING
  ? [
      {
        name: 'fault-recurring',
        command: new RecurringFaultCommand(),
        ...JSON.parse(env.FAULT_RECURRING),
      },
    ]
  : [];

function typeOrmOptions() {
  const common = { autoLoadEntities: true, synchronize: mode === 'setup', logging: false };
  if (env.FAULT_DB === 'sqlite') {
    return { ...common, type: 'better-sqlite3', database: env.FAULT_DB_URL };
  }
  if (env.FAULT_DB === 'mariadb') {
    // TypeORM cannot make this table on MariaDB: the shipped migration does, in the setup instance.
    return {
      ...common,
      type: 'mariadb',
      url: env.FAULT_DB_URL,
      synchronize: false,
      migrations: scheduledCommandsMigrations('mariadb'),
      migrationsRun: mode === 'setup',
    };
  }
  // application_name lets the test see this instance's connections in pg_stat_activity.
  return { ...common, type: 'postgres', url: env.FAULT_DB_URL, applicationName: workerId };
}

const runLog = new RunLog(mode === 'worker' ? env.FAULT_RUN_LOG : undefined);

class FaultAppModule {}
Module({
  imports: [
    CqrsModule.forRoot(),
    TypeOrmModule.forRoot(typeOrmOptions()),
    ScheduledCommandsModule.forRoot({
      enabled: mode === 'worker',
      workerId,
      concurrency: int('FAULT_CONCURRENCY', 20),
      batchSize: int('FAULT_BATCH_SIZE', 50),
      leaseDuration: int('FAULT_LEASE_MS', 30_000),
      pollingInterval: int('FAULT_POLL_MS', 200),
      // Lease take-over counts as a failed attempt; keep a budget that a kill can never exhaust.
      maxRetries: 5,
      retryDelayBase: 100,
      shutdownTimeout: 2_000,
      recurring,
    }),
  ],
  providers: [{ provide: RUN_LOG, useValue: runLog }, FaultHandler, RecurringFaultHandler],
})(FaultAppModule);

const app = await NestFactory.createApplicationContext(FaultAppModule, {
  logger: ['error', 'warn', 'log'],
  abortOnError: false,
});

if (mode === 'setup') {
  await app.close();
  process.exit(0);
}

if (mode === 'schedule') {
  const scheduler = app.get(CommandScheduler);
  const count = int('FAULT_COUNT', 0);
  const chunk = int('FAULT_CHUNK', 1_000);
  const started = Date.now();
  for (let from = 0; from < count; from += chunk) {
    const requests = [];
    for (let seq = from; seq < Math.min(count, from + chunk); seq++) {
      requests.push({ command: new FaultCommand(seq) });
    }
    await scheduler.scheduleMany(requests);
  }
  send({ event: 'scheduled', count, ms: Date.now() - started });
  await app.close();
  process.exit(0);
}

const poller = app.get(ScheduledCommandsWorker);
const report = () =>
  send({
    event: 'stats',
    held: poller.heldCount,
    started: runLog.started,
    finished: runLog.finished,
  });
const stats = setInterval(report, 100);
send({ event: 'ready', workerId });

process.once('SIGTERM', async () => {
  clearInterval(stats);
  try {
    await app.close();
  } finally {
    report();
    runLog.close();
    process.exit(0);
  }
});
