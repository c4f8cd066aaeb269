import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { Clock } from '../clock.js';
import {
  ScheduledCommandCompletedEvent,
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import { publishSafely } from '../events/publish-safely.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import {
  ScheduledCommandStatus,
  type Lease,
  type ScheduledCommandEntry,
} from '../store/scheduled-command-entry.js';
import { ScheduledCommandStore, type StoreWatch } from '../store/scheduled-command-store.js';
import { CommandRunner, type RunOutcome } from './command-runner.js';
import { LazyAbort } from './lazy-abort.js';
import { PollingInterval } from './polling-interval.js';
import { retryDelay } from './retry-policy.js';
import { WorkerSignal } from './worker-signal.js';

/** A command this worker holds a lease on, from claim until its outcome is written. */
interface HeldCommand {
  readonly entry: ScheduledCommandEntry;
  readonly lease: Lease;
  readonly abort: LazyAbort;
  /** Set when the handler finished; the outcome then waits to be written. */
  outcome?: RunOutcome;
  /** The heartbeat found the lease gone: another worker owns the command now. */
  lost?: boolean;
  /** Aborted at shutdown while its handler still ran: counted in {@link CommandPoller.overrunCount}. */
  overrun: boolean;
  /** A batch write of its completion failed: the write may have reached the store all the same. */
  uncertain: boolean;
}

/** Longest pause between attempts to reach a failing store. */
const MAX_ERROR_BACKOFF = 5_000;
/** Above this many finished-but-unwritten commands, claiming pauses (the store is slow or down). */
const MAX_UNWRITTEN_FACTOR = 4;
/** Claims one worker keeps under way at once while there is a backlog. */
const MAX_CLAIMS_IN_FLIGHT = 2;
/** Maintenance work per pass, in rows. */
const MAINTENANCE_BATCH = 500;

/**
 * The worker of one instance. It claims due commands from the store, runs them through the
 * {@link CommandRunner}, writes outcomes back (completions in batches), and publishes lifecycle events.
 *
 * It wakes up:
 * - at once when this instance schedules a command that is due (through {@link WorkerSignal});
 * - when another instance schedules one (the store's `watch`, PostgreSQL LISTEN/NOTIFY);
 * - at the due time of the nearest future command (a timer);
 * - every `pollingInterval` (the {@link PollingInterval}, in the host's `SchedulerRegistry` if any: the
 *   safety net, which also expires overdue commands and takes over commands whose lease ran out);
 * - when a running command finishes and frees a slot.
 *
 * At most `concurrency` commands run at once; each holds a lease renewed by a heartbeat. On shutdown
 * it stops claiming, waits up to `shutdownTimeout` for running handlers, releases the commands still
 * running after that (so other instances take them at once), and writes every outcome it has.
 */
@Injectable()
export class CommandPoller implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CommandPoller.name);
  private readonly held = new Map<string, HeldCommand>();
  private readonly unwritten: HeldCommand[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Failed attempts being written (retry or dead letter); shutdown waits for them. */
  private readonly failureWrites = new Set<Promise<void>>();
  private started = false;
  private stopping = false;
  /** Claims under way (at most {@link MAX_CLAIMS_IN_FLIGHT}); shutdown and drain wait for them. */
  private readonly claims = new Set<Promise<void>>();
  private claimsInFlight = 0;
  /** Slots promised to the claims under way. */
  private reservedSlots = 0;
  /** Handlers running now (claimed, outcome not known yet). */
  private runningCount = 0;
  /** The last claim came back full: more is probably due, so a second claim may overlap. */
  private backlog = false;
  /** A wake-up arrived while claims were under way and none could start: claim again after them. */
  private wakeRequested = false;
  /** A claim for less than a batch waits for the next turn of the event loop (see {@link wake}). */
  private claimDeferred = false;
  /** The most one claim can take: a batch, or every slot when there are fewer. */
  private readonly fullClaim: number;
  /** Smallest claim worth a statement while there is a backlog. */
  private readonly claimLowWater: number;
  /**
   * While there is a backlog: the earliest due time of the last full claim, passed to the next claims
   * as their `scheduledFrom` hint so that they start where it ended. Cleared by a claim that comes back
   * short (which then claims again without it) and by every polling pass.
   */
  private claimFrom: number | null = null;
  private ticking: Promise<void> | undefined;
  private nextTick: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  private flushRetryPending = false;
  private dueTimer: NodeJS.Timeout | undefined;
  private dueTimerAt = Infinity;
  private errorBackoff = 0;
  /** Back-off of {@link armNextDue} while a due command cannot be claimed. */
  private dueRetry = 0;
  private watcher: StoreWatch | undefined;
  private lastMaintenance = -Infinity;
  private heartbeat: NodeJS.Timeout | undefined;
  /** A lease renewal is under way: the next heartbeat skips rather than piling up on a slow store. */
  private renewing = false;
  /** A due-time lookup is under way; `dueLookupAgain`: another was asked for meanwhile. */
  private dueLookup = false;
  private dueLookupAgain = false;
  /** Handlers given up on (timed out, or aborted at shutdown) that still run; they keep their slot. */
  private overrunning = 0;
  /** Commands whose timed-out handler still runs, to when it settles: their retry waits for it. */
  private readonly overruns = new Map<string, Promise<void>>();

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly runner: CommandRunner,
    private readonly eventBus: EventBus,
    private readonly pollingInterval: PollingInterval,
    private readonly signal: WorkerSignal,
    private readonly clock: Clock,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
  ) {
    this.fullClaim = Math.min(options.batchSize, options.concurrency);
    this.claimLowWater = Math.max(1, Math.floor(this.fullClaim / 4));
  }

  /** Whether this instance runs commands (`enabled` option) and has not stopped. */
  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  /** Commands this worker currently holds (running, or finished and waiting to be written). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Handlers still running although their run was given up: timed out (`commandTimeout`), or aborted
   * at shutdown. A timeout or an abort fires the handler's signal; it cannot stop a handler that does
   * not listen, so each keeps its concurrency slot until it returns.
   */
  get overrunCount(): number {
    return this.overrunning;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled) {
      this.logger.log(
        'Worker disabled (enabled: false): this instance schedules commands but does not run them.',
      );
      return;
    }
    this.started = true;
    this.signal.listen((scheduledFor, delay) => this.onScheduled(scheduledFor, delay));
    this.pollingInterval.start(() => void this.tick(), this.options.pollingInterval);
    this.heartbeat = setInterval(
      () => void this.renewLeases(),
      Math.max(250, Math.floor(this.options.leaseDuration / 3)),
    );
    this.heartbeat.unref?.();
    if (this.options.listen && this.store.watch) {
      try {
        this.watcher = await this.store.watch(() => this.wake());
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
    if (this.ticking) {
      // After the pass under way, whether it resolved or rejected (its callers see its rejection).
      const next = (): Promise<void> => {
        this.nextTick = undefined;
        return this.tick();
      };
      this.nextTick ??= this.ticking.then(next, next);
      return this.nextTick;
    }
    this.ticking = this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /**
   * Waits until every command this worker has started is finished and written back.
   * Together with {@link tick} it lets tests run the worker step by step.
   */
  async drain(): Promise<void> {
    while (this.held.size > 0 || this.claims.size > 0 || this.flushing || this.claimDeferred) {
      await Promise.all([...this.claims, this.flushing]);
      if (this.held.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // A claim put off to the next turn of the event loop (see wake) is part of the work too.
      else if (this.claimDeferred) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Stops the worker: no more claims; running handlers get up to `shutdownTimeout` to finish; commands
   * still running after that are aborted and released to other instances; every outcome is written.
   */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.signal.listen(undefined);
    this.pollingInterval.stop();
    this.clearDueTimer();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.watcher
      ?.close()
      .catch((error: Error) =>
        this.logger.warn(`Closing the store watch failed: ${error.message}`),
      );
    await Promise.allSettled([this.nextTick, this.ticking, ...this.claims]);

    // Local waits use the monotonic clock: a wall-clock jump must not stretch or cut them.
    const deadline = performance.now() + this.options.shutdownTimeout;
    while (this.running().length > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const stillRunning = this.running();
    if (stillRunning.length > 0) {
      let overrun = 0;
      for (const held of stillRunning) {
        held.lost = true;
        this.held.delete(held.entry.id);
        // A retry still waiting for its timed-out first run has not started: nothing to abort.
        if (this.overruns.has(held.entry.id)) continue;
        held.abort.abort(new Error('The application is shutting down.'));
        held.overrun = true;
        overrun++;
      }
      this.overrunning += overrun;
      if (overrun > 0) {
        this.logger.warn(
          `${overrun} handler(s) still running after shutdownTimeout were aborted; they keep running until they return (an abort fires their signal, it cannot stop them), and their commands are released.`,
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
    // Write what finished; keep trying for a short while if the store hiccups.
    const writeDeadline = performance.now() + Math.max(1_000, this.options.shutdownTimeout);
    await Promise.race([
      Promise.allSettled([...this.failureWrites]),
      new Promise((resolve) => setTimeout(resolve, writeDeadline - performance.now()).unref?.()),
    ]);
    while (this.unwritten.length > 0 && performance.now() < writeDeadline) {
      await this.flush();
      if (this.unwritten.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.unwritten.length > 0) {
      this.logger.error(
        `${this.unwritten.length} finished command(s) could not be written before shutdown; their leases will run out and they will run again.`,
      );
    }
    this.logger.log(`Worker ${this.options.workerId} stopped.`);
  }

  /**
   * Claims due commands now, as far as free slots allow: one claim at a time, or two overlapping ones
   * while the previous claim came back full (a backlog), so the database works on the next batch while
   * this process starts the last one. A wake-up while claims are under way is remembered and served
   * when they end.
   */
  wake(): void {
    this.claimFreeSlots(false);
  }

  /** {@link wake}; `deferred`: this is the deferred turn of a claim for less than a batch. */
  private claimFreeSlots(deferred: boolean): void {
    if (!this.isRunning) return;
    const maxInFlight = this.backlog ? MAX_CLAIMS_IN_FLIGHT : 1;
    if (this.claimsInFlight >= maxInFlight) {
      this.wakeRequested = true;
      return;
    }
    while (this.claimsInFlight < maxInFlight) {
      const free = this.options.concurrency - this.runningCount - this.reservedSlots;
      if (free <= 0 || this.unwritten.length > this.options.batchSize * MAX_UNWRITTEN_FACTOR)
        return;
      // With a backlog and handlers still running (each of which wakes the worker when it ends):
      // - wait for a worthwhile number of free slots rather than claim them one by one (each claim is
      //   a statement, whatever its size);
      // - a claim for less than a full one waits one turn of the event loop: handlers that finish in
      //   the same burst (short ones finish together) add their slots to it, so the worker makes
      //   fewer, larger claims and writes larger completion batches. A slow handler's slot waits one
      //   turn of the event loop at most.
      if (this.backlog && this.runningCount + this.reservedSlots > 0) {
        if (free < this.claimLowWater) return;
        if (free < this.fullClaim && !deferred) {
          if (!this.claimDeferred) {
            this.claimDeferred = true;
            setImmediate(() => {
              this.claimDeferred = false;
              this.claimFreeSlots(true);
            });
          }
          return;
        }
      }
      const limit = Math.min(this.options.batchSize, free);
      this.claimsInFlight++;
      this.reservedSlots += limit;
      const claim = this.claimBatch(limit);
      this.claims.add(claim);
      void claim.finally(() => this.claims.delete(claim));
    }
  }

  private onScheduled(scheduledFor: Date | null, delay: number | null): void {
    // Due before where the backlog claims start: the next claim must not skip it.
    if (scheduledFor && this.claimFrom !== null && scheduledFor.getTime() < this.claimFrom) {
      this.claimFrom = null;
    }
    const dueIn = scheduledFor ? scheduledFor.getTime() - this.clock.now().getTime() : (delay ?? 0);
    if (dueIn <= 0) this.wake();
    else this.armDueTimer(dueIn);
  }

  private async runTick(): Promise<void> {
    // Every pass claims from the start: entries that became due with an earlier time while the worker
    // was working through a backlog (released, taken over, rescheduled into the past) wait no longer.
    // It claims before its maintenance, which must not hold due commands back (the first pass after
    // start-up may have a lot to purge), and again after it, for the commands it took over.
    this.claimFrom = null;
    this.wake();
    try {
      await this.maintain();
    } catch (error) {
      this.logger.error(
        `Maintenance pass failed: ${(error as Error).message}`,
        (error as Error).stack,
      );
    }
    this.wake();
    await Promise.allSettled([...this.claims]);
  }

  /** Lease take-over, expiry and (every `maintenanceInterval`) retention purge. */
  private async maintain(): Promise<void> {
    const recovered = await this.store.recoverExpiredLeases(MAINTENANCE_BATCH);
    for (const entry of recovered.requeued) {
      this.logger.warn(
        `Command ${entry.id} (${entry.commandType}) was taken over after its lease ran out.`,
      );
      this.publish(
        new ScheduledCommandRetryingEvent(
          entry,
          entry.errorMessage ?? '',
          entry.retryCount,
          entry.scheduledFor,
        ),
      );
    }
    for (const entry of recovered.deadLettered) {
      this.publish(
        new ScheduledCommandFailedEvent(entry, entry.errorMessage ?? '', entry.retryCount),
      );
    }
    for (const entry of await this.store.expireDue(MAINTENANCE_BATCH)) {
      this.publish(new ScheduledCommandExpiredEvent(entry));
    }
    const now = this.clock.now().getTime();
    if (now - this.lastMaintenance >= this.options.maintenanceInterval) {
      this.lastMaintenance = now;
      await this.purgeOld(now);
    }
  }

  private async purgeOld(now: number): Promise<void> {
    for (const [status, keep] of Object.entries(this.options.retention) as [
      ScheduledCommandStatus,
      number | false,
    ][]) {
      if (keep === false) continue;
      const olderThan = new Date(now - keep);
      // Small batches, bounded per pass: never a long lock, never a long pass.
      for (let i = 0; i < 20 && !this.stopping; i++) {
        const deleted = await this.store.purge({
          olderThan,
          statuses: [status],
          limit: MAINTENANCE_BATCH,
        });
        if (deleted < MAINTENANCE_BATCH) break;
      }
    }
  }

  private running(): HeldCommand[] {
    return [...this.held.values()].filter((h) => h.outcome === undefined);
  }

  /** One claim of up to `limit` commands (slots already reserved); starts each one at once. */
  private async claimBatch(limit: number): Promise<void> {
    let claimed: ScheduledCommandEntry[];
    const from = this.claimFrom;
    try {
      claimed = await this.store.claim({
        workerId: this.options.workerId,
        limit,
        leaseMs: this.options.leaseDuration,
        scheduledFrom: from === null ? null : new Date(from),
      });
    } catch (error) {
      this.claimsInFlight--;
      this.reservedSlots -= limit;
      this.backlog = false;
      this.errorBackoff = Math.min(MAX_ERROR_BACKOFF, Math.max(100, this.errorBackoff * 2));
      this.logger.error(
        `Claiming commands failed (retrying in ${this.errorBackoff} ms): ${(error as Error).message}`,
        (error as Error).stack,
      );
      this.later(this.errorBackoff, () => this.wake());
      return;
    }
    this.claimsInFlight--;
    this.reservedSlots -= limit;
    this.errorBackoff = 0;
    for (const entry of claimed) this.start(entry);
    this.backlog = claimed.length === limit;
    if (this.backlog) {
      let earliest = Infinity;
      for (const entry of claimed) earliest = Math.min(earliest, entry.scheduledFor.getTime());
      this.claimFrom = earliest;
    } else if (this.claimFrom !== null || from !== null) {
      // Short of a full batch: claim once more from the start before going idle, for any entry due
      // before where this claim started.
      this.claimFrom = null;
      if (from !== null) this.wakeRequested = true;
    }
    if (this.backlog || this.wakeRequested) {
      this.wakeRequested = false;
      this.wake();
    } else if (this.claimsInFlight === 0 && !this.stopping) {
      await this.lookUpNextDue(claimed.length > 0);
    }
  }

  private start(entry: ScheduledCommandEntry): void {
    const held: HeldCommand = {
      entry,
      lease: { id: entry.id, workerId: this.options.workerId, attempt: entry.attempts },
      abort: new LazyAbort(),
      // Present from the start, so that setting them later keeps the object's shape.
      outcome: undefined,
      lost: false,
      overrun: false,
      uncertain: false,
    };
    this.held.set(entry.id, held);
    this.runningCount++;
    if (this.overruns.size !== 0) {
      // A retry of a command whose timed-out first run still goes on here: it starts after that run.
      const previous = this.overruns.get(entry.id);
      if (previous) {
        void previous.then(() => (held.lost ? this.runningCount-- : this.run(held)));
        return;
      }
    }
    this.run(held);
  }

  private run(held: HeldCommand): void {
    const entry = held.entry;
    // One reaction for both ends (run() never rejects; a rejection is still an ordinary failure).
    void this.runner.run(entry, held.abort).then(
      (outcome) => this.finished(held, outcome),
      (error: Error) =>
        this.finished(held, { kind: 'failed', error: error.message, permanent: false }),
    );
  }

  /** A run has ended: queue its completion for the next batch write, or write its failure. */
  private finished(held: HeldCommand, outcome: RunOutcome): void {
    held.outcome = outcome;
    if (outcome.kind === 'failed' && outcome.settled) this.overran(held, outcome.settled);
    else {
      this.runningCount--;
      if (held.overrun) this.overrunning--;
    }
    if (held.lost) {
      this.held.delete(held.entry.id);
      this.logger.warn(
        `Command ${held.entry.id} finished after its lease was lost; its outcome is not written (another worker owns it).`,
      );
    } else if (outcome.kind === 'completed') {
      this.unwritten.push(held);
      this.scheduleFlush();
    } else {
      const write = this.writeFailure(held, outcome).finally(() =>
        this.failureWrites.delete(write),
      );
      this.failureWrites.add(write);
    }
    this.wake();
  }

  /**
   * A timed-out run whose handler still goes on: it keeps its slot (and holds back the start of its
   * own retry in this process) until the handler returns. Its failure is written at once.
   */
  private overran(held: HeldCommand, settled: Promise<void>): void {
    const id = held.entry.id;
    if (!held.overrun) {
      held.overrun = true;
      this.overrunning++;
    }
    this.overruns.set(id, settled);
    this.logger.warn(
      `Command ${id} (${held.entry.commandType}) timed out; its handler is still running and keeps its slot until it returns (a timeout fires the signal, it cannot stop the handler).`,
    );
    void settled.then(() => {
      if (this.overruns.get(id) === settled) this.overruns.delete(id);
      this.overrunning--;
      this.runningCount--;
      this.logger.warn(`The timed-out handler of command ${id} has returned; its slot is free.`);
      this.wake();
    });
  }

  /**
   * Writes a failed attempt: retry with backoff, or dead-letter. A failing store is tried again with a
   * growing pause for up to one `leaseDuration`; after that the worker gives up and stops renewing the
   * lease, which then runs out, and a worker pass takes the command over (a failed attempt as well).
   */
  private async writeFailure(
    held: HeldCommand,
    outcome: Extract<RunOutcome, { kind: 'failed' }>,
  ): Promise<void> {
    const { entry, lease } = held;
    const retry = !outcome.permanent && entry.retryCount < entry.maxRetries;
    const giveUpAt = performance.now() + this.options.leaseDuration;
    for (let backoff = 100, attempt = 1; ; backoff = Math.min(MAX_ERROR_BACKOFF, backoff * 2)) {
      if (held.lost) break;
      try {
        if (retry) {
          const delay = retryDelay(entry.retryCount + 1, this.options);
          const updated = await this.store.retry(lease, outcome.error, delay);
          if (updated) {
            this.logger.warn(
              `Command ${entry.id} (${entry.commandType}) failed, retry ${updated.retryCount}/${updated.maxRetries} in ${delay} ms: ${outcome.error}`,
            );
            this.publish(
              new ScheduledCommandRetryingEvent(
                updated,
                outcome.error,
                updated.retryCount,
                updated.scheduledFor,
              ),
            );
            this.onScheduled(null, delay);
          }
        } else {
          const updated = await this.store.deadLetter(lease, outcome.error);
          if (updated) {
            this.logger.error(
              `Command ${entry.id} (${entry.commandType}) dead-lettered after ${updated.retryCount} retries: ${outcome.error}`,
            );
            this.publish(
              new ScheduledCommandFailedEvent(updated, outcome.error, updated.retryCount),
            );
          }
        }
        break;
      } catch (error) {
        const what = retry ? 'retry' : 'dead letter';
        if (
          performance.now() + backoff > giveUpAt ||
          (this.stopping && backoff >= MAX_ERROR_BACKOFF)
        ) {
          this.logger.error(
            `Gave up writing the ${what} of command ${entry.id} (${entry.commandType}) after ${attempt} attempt(s): ${(error as Error).message}. Its lease is no longer renewed: it runs out within ${this.options.leaseDuration} ms, then a worker pass takes the command over (counted as a failed attempt).`,
          );
          break;
        }
        this.logger.error(
          `Writing the ${what} of command ${entry.id} failed (attempt ${attempt}, next in ${backoff} ms): ${(error as Error).message}`,
        );
        attempt++;
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
    this.held.delete(entry.id);
    this.wake();
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushRetryPending) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .finally(() => {
        this.flushing = undefined;
        // After a failed write the retry timer (not this) flushes again, so a store that is down is
        // not hammered.
        if (this.unwritten.length > 0 && !this.stopping && !this.flushRetryPending)
          this.scheduleFlush();
      });
  }

  /**
   * Writes every finished completion in one store call, then publishes their events. After a failed
   * write the same batch is written again; a completion that the failed call did write (it can have
   * reached the store part-way) is then recognised by its row, so its event is published exactly once.
   */
  private async flush(): Promise<void> {
    const batch = this.unwritten.splice(0, this.unwritten.length);
    if (batch.length === 0) return;
    let written: Set<string>;
    try {
      written = new Set(
        await this.store.complete(
          batch.map((h) => ({
            lease: h.lease,
            resultPayload: (h.outcome as { resultPayload: string | null }).resultPayload,
          })),
        ),
      );
    } catch (error) {
      // Keep them (and their leases, renewed by the heartbeat) and try again: the handler succeeded, so
      // the command must not be marked failed or run again because a write failed.
      for (const held of batch) held.uncertain = true;
      this.unwritten.unshift(...batch);
      this.retryFlushLater(batch.length, error as Error);
      return;
    }
    this.errorBackoff = 0;
    let unsure: HeldCommand[] | undefined;
    for (const held of batch) {
      if (written.has(held.entry.id)) {
        this.held.delete(held.entry.id);
        this.publishCompleted(held);
      } else if (held.uncertain) (unsure ??= []).push(held);
      else this.lostCompletion(held);
    }
    if (unsure) await this.confirmCompletions(unsure);
    this.wake();
  }

  /** Completions missing from a write after an earlier write failed: did that one store them? */
  private async confirmCompletions(batch: HeldCommand[]): Promise<void> {
    for (const held of batch) {
      let row: ScheduledCommandEntry | null;
      try {
        row = await this.store.get(held.entry.id);
      } catch (error) {
        this.unwritten.push(held);
        this.retryFlushLater(1, error as Error);
        continue;
      }
      // Completed under this very attempt: only this lease could write that (attempts is its fence).
      if (row?.status === ScheduledCommandStatus.Completed && row.attempts === held.lease.attempt) {
        this.held.delete(held.entry.id);
        this.publishCompleted(held);
      } else this.lostCompletion(held);
    }
  }

  private publishCompleted(held: HeldCommand): void {
    const outcome = held.outcome as Extract<RunOutcome, { kind: 'completed' }>;
    this.publish(new ScheduledCommandCompletedEvent(held.entry, outcome.result));
  }

  private lostCompletion(held: HeldCommand): void {
    this.held.delete(held.entry.id);
    this.logger.warn(
      `Command ${held.entry.id} completed after its lease was lost; another worker owns it now.`,
    );
  }

  private retryFlushLater(count: number, error: Error): void {
    this.errorBackoff = Math.min(MAX_ERROR_BACKOFF, Math.max(100, this.errorBackoff * 2));
    this.logger.error(
      `Writing ${count} completion(s) failed (retrying in ${this.errorBackoff} ms): ${error.message}`,
    );
    if (!this.stopping && !this.flushRetryPending) {
      this.flushRetryPending = true;
      this.later(this.errorBackoff, () => {
        this.flushRetryPending = false;
        this.scheduleFlush();
      });
    }
  }

  /** Heartbeat: renews the leases of every held command; marks (and aborts) the ones that were lost. */
  private async renewLeases(): Promise<void> {
    if (this.renewing) return;
    const held = [...this.held.values()].filter((h) => !h.lost);
    if (held.length === 0) return;
    this.renewing = true;
    try {
      const kept = new Set(
        await this.store.extendLeases(
          held.map((h) => h.lease),
          this.options.leaseDuration,
        ),
      );
      for (const h of held) {
        // Only a running handler is marked lost: a finished one's write finds out by itself.
        if (!kept.has(h.entry.id) && h.outcome === undefined && this.held.get(h.entry.id) === h) {
          h.lost = true;
          h.abort.abort(new Error('The lease of this command was lost.'));
          this.logger.warn(`Lost the lease of command ${h.entry.id}; another worker may run it.`);
        }
      }
    } catch (error) {
      this.logger.error(`Renewing leases failed: ${(error as Error).message}`);
    } finally {
      this.renewing = false;
    }
  }

  /** {@link armNextDue}, one lookup at a time (a lookup asked for meanwhile runs after it). */
  private async lookUpNextDue(claimedAny: boolean): Promise<void> {
    if (this.dueLookup) {
      this.dueLookupAgain = true;
      return;
    }
    this.dueLookup = true;
    try {
      do {
        this.dueLookupAgain = false;
        await this.armNextDue(claimedAny);
      } while (this.dueLookupAgain && this.isRunning);
    } catch (error) {
      this.logger.error(`Looking up the next due time failed: ${(error as Error).message}`);
    } finally {
      this.dueLookup = false;
    }
  }

  /**
   * Sets the timer for the nearest pending command. When one is already due although the claim just
   * found nothing (the timer fired a millisecond early, the row is locked by another instance's claim,
   * or it expired and waits for the sweep), it looks again soon, backing off up to the polling interval.
   */
  private async armNextDue(claimedAny: boolean): Promise<void> {
    const ms = await this.store.msUntilNextDue();
    if (ms === null) return;
    if (ms > 0) {
      this.dueRetry = 0;
      this.armDueTimer(ms);
      return;
    }
    this.dueRetry = claimedAny
      ? 0
      : Math.min(this.options.pollingInterval, Math.max(1, this.dueRetry * 2));
    this.armDueTimer(this.dueRetry);
  }

  /** Sets the due timer for `ms` from now unless one is already set for earlier. */
  private armDueTimer(ms: number): void {
    if (!this.isRunning || ms >= this.options.pollingInterval) return;
    ms = Math.max(0, ms);
    const at = performance.now() + ms;
    if (this.dueTimer && this.dueTimerAt <= at) return;
    this.clearDueTimer();
    this.dueTimerAt = at;
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.dueTimerAt = Infinity;
      this.wake();
    }, ms);
  }

  private clearDueTimer(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    this.dueTimerAt = Infinity;
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private publish(event: object): void {
    publishSafely(this.eventBus, event, this.logger);
  }
}
