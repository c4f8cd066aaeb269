import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Clock } from '../clock.js';
import { LifecycleEvents } from '../events/lifecycle-events.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandStore, type StoreWatch } from '../store/scheduled-command-store.js';
import { BackgroundTasks } from './background-tasks.js';
import { ClaimPacer } from './claim-pacer.js';
import { CommandRunner, type RunOutcome } from './command-runner.js';
import { EventPublisher } from './event-publisher.js';
import { HeldCommands, type HeldCommand } from './held-commands.js';
import { LeaseHeartbeat } from './lease-heartbeat.js';
import { Maintenance } from './maintenance.js';
import { OutcomeWriter } from './outcome-writer.js';
import { PollingInterval } from './polling-interval.js';
import { SerialPass } from './serial-pass.js';
import { WorkerSignal } from './worker-signal.js';

/**
 * The worker's lifecycle: `idle` until the application has started, `running` while it claims and
 * runs commands, `stopping` during shutdown, then `stopped`. A disabled worker (`enabled: false`)
 * stays `idle` until shutdown.
 */
export type WorkerState = 'idle' | 'running' | 'stopping' | 'stopped';

const NEXT_STATES: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  idle: ['running', 'stopped'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/**
 * The worker of one instance: a thin lifecycle over its roles. It claims due commands
 * ({@link ClaimPacer}), runs them through the {@link CommandRunner}, keeps them in the ledger of held
 * commands ({@link HeldCommands}) whose leases the {@link LeaseHeartbeat} renews, writes outcomes back
 * and publishes lifecycle events ({@link OutcomeWriter}), and runs {@link Maintenance} in every polling
 * pass. Background work is tracked in one place ({@link BackgroundTasks}), which `drain()` and `stop()` await.
 *
 * It wakes up:
 * - at once when this instance schedules a command that is due (through {@link WorkerSignal});
 * - when another instance schedules one (the store's `watch`, PostgreSQL LISTEN/NOTIFY);
 * - at the due time of the nearest future command (a timer);
 * - every `pollingInterval` (the {@link PollingInterval}, in the host's `SchedulerRegistry` if any: the
 *   safety net, which also expires overdue commands and takes over commands whose lease ran out);
 * - when a running command finishes and frees a slot.
 *
 * Clocks, one rule: the store's clock (the database's on PostgreSQL) decides what is due, expired or
 * out of lease, and stamps every time written to a row; the injected {@link Clock} is used for what the
 * worker computes about commands' time (how far away a command this instance scheduled is due, the
 * retention cut-offs and their pace); every local wait (timers, back-offs, shutdown deadlines) is
 * measured on the monotonic clock, which no wall-clock jump and no `ManualClock` moves.
 *
 * At most `concurrency` handlers run at once; a handler that timed out or was aborted at shutdown
 * keeps its slot until it returns ({@link overrunCount}). On shutdown the worker stops claiming, waits up
 * to `shutdownTimeout` for running handlers, releases the commands still running after that (so other
 * instances take them at once), and writes every outcome it has.
 */
@Injectable()
export class ScheduledCommandsWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ScheduledCommandsWorker.name);
  private current: WorkerState = 'idle';
  private readonly ledger: HeldCommands;
  private readonly tasks = new BackgroundTasks();
  private readonly events: EventPublisher;
  private readonly writer: OutcomeWriter;
  private readonly pacer: ClaimPacer;
  private readonly heartbeat: LeaseHeartbeat;
  private readonly maintenance: Maintenance;
  private readonly passes = new SerialPass(() => this.runPass());
  private readonly isStopping = (): boolean => this.current !== 'running';
  private readonly wakeUp = (): void => this.pacer.wake();
  private watcher: StoreWatch | undefined;

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly runner: CommandRunner,
    lifecycle: LifecycleEvents,
    private readonly pollingInterval: PollingInterval,
    private readonly signal: WorkerSignal,
    clock: Clock,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
  ) {
    this.ledger = new HeldCommands(options.workerId);
    this.events = new EventPublisher(lifecycle, this.logger);
    this.writer = new OutcomeWriter(
      store,
      this.ledger,
      this.tasks,
      this.events,
      options,
      this.logger,
      {
        wake: this.wakeUp,
        retryScheduled: (delay) => this.pacer.onScheduled(null, delay),
      },
    );
    this.pacer = new ClaimPacer(
      store,
      options,
      clock,
      this.ledger,
      this.writer,
      this.tasks,
      this.logger,
      (entry) => this.start(entry),
    );
    this.heartbeat = new LeaseHeartbeat(store, this.ledger, options.leaseDuration, this.logger);
    this.maintenance = new Maintenance(store, options, clock, this.events, this.logger);
  }

  /** Where the worker is in its lifecycle. */
  get state(): WorkerState {
    return this.current;
  }

  /** Whether this instance runs commands (`enabled` option) and has not begun to stop. */
  get isRunning(): boolean {
    return this.current === 'running';
  }

  /**
   * Milliseconds since the worker's heartbeat last renewed its leases (or found none to renew), or
   * `null` while it is not running. See `ScheduledCommandsHealthIndicator`.
   */
  get heartbeatAge(): number | null {
    return this.isRunning ? this.heartbeat.age : null;
  }

  /** Commands this worker currently holds (running, or finished and waiting to be written). */
  get heldCount(): number {
    return this.ledger.size;
  }

  /**
   * Handlers still running although their run was given up: timed out (`commandTimeout`), or aborted
   * at shutdown. A timeout or an abort fires the handler's signal; it cannot stop a handler that does
   * not listen, so each keeps its concurrency slot until it returns.
   */
  get overrunCount(): number {
    return this.ledger.overrunCount;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled) {
      this.logger.log(
        'Worker disabled (enabled: false): this instance schedules commands but does not run them.',
      );
      return;
    }
    this.setState('running');
    this.pacer.start();
    this.signal.listen((scheduledFor, delay) => this.pacer.onScheduled(scheduledFor, delay));
    this.mountPollingInterval();
    this.heartbeat.start();
    if (this.options.listen && this.store.watch) {
      try {
        this.watcher = await this.store.watch(this.wakeUp);
      } catch (error) {
        this.logger.warn(
          `Cross-instance wake-ups are off (the store could not listen): ${(error as Error).message}`,
        );
      }
    }
    this.logger.log(
      `Worker ${this.options.workerId} started (polling every ${this.options.pollingInterval} ms, concurrency ${this.options.concurrency}).`,
    );
    void this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /**
   * Runs one full pass: claims and starts due commands, takes over commands whose lease ran out,
   * expires overdue ones, purges old finished entries when due, and claims again. Resolves when the
   * pass (not the commands it started) is done. Passes never overlap: while one is under way, the
   * next is queued (at most one; later callers share it), so a pass always starts after the call.
   * Tests and tools can call it to drive the worker without waiting for the interval.
   */
  tick(): Promise<void> {
    if (!this.isRunning) return Promise.resolve();
    return this.passes.run();
  }

  /**
   * Waits until every command this worker has started is finished and written back.
   * Together with {@link tick} it lets tests run the worker step by step.
   */
  async drain(): Promise<void> {
    while (this.tasks.size > 0 || this.ledger.size > 0) {
      await this.tasks.whenIdle();
      await this.ledger.whenEmpty();
    }
  }

  /** Claims due commands now, as far as free slots allow (see {@link ClaimPacer}). */
  wake(): void {
    this.pacer.wake();
  }

  /**
   * Stops the worker: no more claims; running handlers get up to `shutdownTimeout` to finish; commands
   * still running after that are aborted and released to other instances; every outcome is written.
   */
  async stop(): Promise<void> {
    if (this.current === 'idle') this.setState('stopped');
    if (this.current !== 'running') return;
    this.setState('stopping');
    this.signal.listen(undefined);
    this.unmountPollingInterval();
    this.pacer.stop();
    await this.watcher
      ?.close()
      .catch((error: Error) =>
        this.logger.warn(`Closing the store watch failed: ${error.message}`),
      );
    await this.passes.whenIdle();
    await this.pacer.whenClaimsSettled();
    await within(this.ledger.whenNoneRunning(), this.options.shutdownTimeout);
    await this.releaseStillRunning();
    // Write what finished; keep trying for a short while if the store hiccups.
    const writeDeadline = performance.now() + Math.max(1_000, this.options.shutdownTimeout);
    await within(this.tasks.whenIdle(), writeDeadline - performance.now());
    this.writer.stop();
    const unwritten = await this.writer.flushUntil(writeDeadline);
    this.heartbeat.stop();
    if (unwritten > 0) {
      this.logger.error(
        `${unwritten} finished command(s) could not be written before shutdown; their leases will run out and they will run again.`,
      );
    }
    this.setState('stopped');
    this.logger.log(`Worker ${this.options.workerId} stopped.`);
  }

  /** The one place that changes the state. @throws {Error} on a transition the lifecycle does not have */
  private setState(next: WorkerState): void {
    if (!NEXT_STATES[this.current].includes(next)) {
      throw new Error(`ScheduledCommandsWorker: cannot go from "${this.current}" to "${next}".`);
    }
    this.current = next;
  }

  /** The polling interval, registered in one place (mounted at start, removed at stop). */
  private mountPollingInterval(): void {
    this.pollingInterval.start(() => void this.tick(), this.options.pollingInterval);
  }

  private unmountPollingInterval(): void {
    this.pollingInterval.stop();
  }

  private async runPass(): Promise<void> {
    if (!this.isRunning) return;
    // Every pass claims from the start: entries that became due with an earlier time while the worker
    // was working through a backlog (released, taken over, rescheduled into the past) wait no longer.
    // It claims before its maintenance, which must not hold due commands back (the first pass after
    // start-up may have a lot to purge), and again after it, for the commands it took over.
    this.pacer.restartFromBeginning();
    this.pacer.wake();
    try {
      await this.maintenance.run(this.isStopping);
    } catch (error) {
      this.logger.error(
        `Maintenance pass failed: ${(error as Error).message}`,
        (error as Error).stack,
      );
    }
    this.pacer.wake();
    await this.pacer.whenClaimsSettled();
  }

  /** Starts a claimed command, or (its timed-out first run still going on here) queues it behind that run. */
  private start(entry: ScheduledCommandEntry): void {
    const held = this.ledger.hold(entry);
    const previous = this.ledger.previousRun(entry.id);
    if (previous) {
      void previous.then(() => (held.lost ? this.ledger.unstarted(held) : this.run(held)));
      return;
    }
    this.run(held);
  }

  private run(held: HeldCommand): void {
    // One reaction for both ends (run() never rejects; a rejection is still an ordinary failure).
    void this.runner.run(held.entry, held.abort, held).then(
      (outcome) => this.finished(held, outcome),
      (error: Error) =>
        this.finished(held, { kind: 'failed', error: error.message, permanent: false }),
    );
  }

  /** A run has ended (or timed out): queue its completion for the next batch write, or write its failure. */
  private finished(held: HeldCommand, outcome: RunOutcome): void {
    if (this.ledger.finish(held, outcome, this.wakeUp)) {
      this.logger.warn(
        `Command ${held.entry.id} (${held.entry.commandType}) timed out; its handler is still running and keeps its slot until it returns (a timeout fires the signal, it cannot stop the handler).`,
      );
    }
    // A completion the handler committed in its own transaction stands even if the heartbeat has since
    // found the row no longer held (it is completed, not processing, any more).
    if (held.lost && held.committed === undefined) {
      this.ledger.drop(held);
      this.logger.warn(
        `Command ${held.entry.id} finished after its lease was lost; its outcome is not written (another worker owns it).`,
      );
    } else if (outcome.kind === 'completed') this.writer.completed(held);
    else this.writer.failed(held, outcome);
    this.pacer.wake();
  }

  /** Shutdown: aborts the handlers still running and gives their commands back to other instances. */
  private async releaseStillRunning(): Promise<void> {
    const stillRunning = this.ledger.unfinished();
    if (stillRunning.length === 0) return;
    let overrun = 0;
    for (const held of stillRunning) {
      held.lost = true;
      this.ledger.drop(held);
      // A retry still waiting for its timed-out first run has not started: nothing to abort.
      if (this.ledger.previousRun(held.entry.id)) continue;
      held.abort.abort(new Error('The application is shutting down.'));
      if (this.ledger.giveUp(held)) overrun++;
    }
    if (overrun > 0) {
      this.logger.warn(
        `${overrun} handler(s) still running after shutdownTimeout were aborted; they keep running until they return (an abort fires their signal, it cannot stop them).`,
      );
    }
    await this.store
      .release(stillRunning.map((h) => h.lease))
      .then((ids) =>
        this.logger.warn(
          `Released ${ids.length} command(s) still running at shutdown to other instances.`,
        ),
      )
      .catch((error: Error) =>
        this.logger.error(`Releasing running commands failed: ${error.message}`, error.stack),
      );
  }
}

/** Waits for `promise`, or `ms` (a local wait), whichever comes first. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * The former name of {@link ScheduledCommandsWorker}: the same class (`app.get(CommandPoller)` still works).
 * @deprecated Use `ScheduledCommandsWorker`; this alias goes in the next major version.
 */
export const CommandPoller = ScheduledCommandsWorker;
/** @deprecated Use `ScheduledCommandsWorker`. */
export type CommandPoller = ScheduledCommandsWorker;
