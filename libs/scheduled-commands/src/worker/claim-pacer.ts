import type { Logger } from '@nestjs/common';
import type { Clock } from '../clock.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { BackgroundTasks } from './background-tasks.js';
import { DueTimer } from './due-timer.js';
import type { HeldCommands } from './held-commands.js';

/** Longest pause between claims while the store fails. */
export const MAX_CLAIM_BACKOFF = 5_000;
/** Above this many batches of finished-but-unwritten completions, claiming pauses (the store is slow or down). */
const MAX_UNWRITTEN_BATCHES = 4;
/** Claims one worker keeps under way at once while there is a backlog. */
const MAX_CLAIMS_IN_FLIGHT = 2;

type PacerOptions = Pick<
  ResolvedScheduledCommandsOptions,
  'workerId' | 'batchSize' | 'concurrency' | 'leaseDuration' | 'pollingInterval'
>;

/**
 * Decides when to claim and how much: as far as free slots allow, one claim at a time, or two
 * overlapping ones while the previous claim came back full (a backlog), so the database works on the
 * next batch while this process starts the last one. Arms the {@link DueTimer} for the nearest future
 * command when the claims run dry, and backs off (its own back-off) while the store fails.
 *
 * While there is a backlog, each claim passes the earliest due time of the last full one as its
 * `scheduledFrom` hint, so that it starts where that one ended; a claim that comes back short, and
 * every polling pass ({@link restartFromBeginning}), claims from the start again.
 */
export class ClaimPacer {
  private active = false;
  /** Claims under way: the polling pass waits for them ({@link whenClaimsSettled}). */
  private readonly claims = new BackgroundTasks();
  private claimsInFlight = 0;
  /** Slots promised to the claims under way. */
  private reservedSlots = 0;
  /** The last claim came back full: more is probably due, so a second claim may overlap. */
  private backlog = false;
  /** A wake-up arrived while claims were under way and none could start: claim again after them. */
  private wakeRequested = false;
  /** A claim for less than a batch waits for the next turn of the event loop (see claimFreeSlots). */
  private claimDeferred = false;
  private claimFrom: number | null = null;
  private backoff = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private dueLookup = false;
  private dueLookupAgain = false;
  /** The most one claim can take: a batch, or every slot when there are fewer. */
  private readonly fullClaim: number;
  /** Smallest claim worth a statement while there is a backlog. */
  private readonly claimLowWater: number;
  private readonly dueTimer: DueTimer;
  private readonly wakeUp = (): void => this.claimFreeSlots(false);
  private readonly deferredClaim = (): void => {
    this.claimDeferred = false;
    this.claimFreeSlots(true);
    this.tasks.end();
  };

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly options: PacerOptions,
    private readonly clock: Clock,
    private readonly ledger: HeldCommands,
    private readonly writer: { readonly unwrittenCount: number },
    private readonly tasks: BackgroundTasks,
    private readonly logger: Logger,
    private readonly startCommand: (entry: ScheduledCommandEntry) => void,
  ) {
    this.fullClaim = Math.min(options.batchSize, options.concurrency);
    this.claimLowWater = Math.max(1, Math.floor(this.fullClaim / 4));
    this.dueTimer = new DueTimer(options.pollingInterval, this.wakeUp);
  }

  /** Whether the due timer is set (for tests). */
  get dueTimerArmed(): boolean {
    return this.dueTimer.armed;
  }

  start(): void {
    this.active = true;
  }

  /** No more claims, timers cleared. Claims under way end by themselves (see whenClaimsSettled). */
  stop(): void {
    this.active = false;
    this.dueTimer.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Claims due commands now, as far as free slots allow; a wake-up during claims is served after them. */
  wake(): void {
    this.claimFreeSlots(false);
  }

  /** The next claims start from the beginning of the due range (a polling pass). */
  restartFromBeginning(): void {
    this.claimFrom = null;
  }

  /** Resolves once no claim is under way. */
  whenClaimsSettled(): Promise<void> {
    return this.claims.whenIdle();
  }

  /** This instance stored a command due at `scheduledFor` (or in `delay` ms): claim now or set the timer. */
  onScheduled(scheduledFor: Date | null, delay: number | null): void {
    // Due before where the backlog claims start: the next claim must not skip it.
    if (scheduledFor && this.claimFrom !== null && scheduledFor.getTime() < this.claimFrom) {
      this.claimFrom = null;
    }
    // scheduledFor was computed from the injected Clock, so the wait is measured on it too.
    const dueIn = scheduledFor ? scheduledFor.getTime() - this.clock.now().getTime() : (delay ?? 0);
    if (dueIn <= 0) this.wake();
    else if (this.active) this.dueTimer.arm(dueIn);
  }

  /** `deferred`: this is the deferred turn of a claim for less than a batch. */
  private claimFreeSlots(deferred: boolean): void {
    if (!this.active) return;
    const maxInFlight = this.backlog ? MAX_CLAIMS_IN_FLIGHT : 1;
    if (this.claimsInFlight >= maxInFlight) {
      this.wakeRequested = true;
      return;
    }
    while (this.claimsInFlight < maxInFlight) {
      const running = this.ledger.runningCount;
      const free = this.options.concurrency - running - this.reservedSlots;
      if (free <= 0 || this.writer.unwrittenCount > this.options.batchSize * MAX_UNWRITTEN_BATCHES)
        return;
      // With a backlog and handlers still running (each of which wakes the worker when it ends):
      // - wait for a worthwhile number of free slots rather than claim them one by one (each claim is
      //   a statement, whatever its size);
      // - a claim for less than a full one waits one turn of the event loop: handlers that finish in
      //   the same burst (short ones finish together) add their slots to it, so the worker makes
      //   fewer, larger claims and writes larger completion batches. A slow handler's slot waits one
      //   turn of the event loop at most.
      if (this.backlog && running + this.reservedSlots > 0) {
        if (free < this.claimLowWater) return;
        if (free < this.fullClaim && !deferred) {
          if (!this.claimDeferred) {
            this.claimDeferred = true;
            this.tasks.begin();
            setImmediate(this.deferredClaim);
          }
          return;
        }
      }
      const limit = Math.min(this.options.batchSize, free);
      this.claimsInFlight++;
      this.reservedSlots += limit;
      const claim = this.claimBatch(limit);
      this.claims.track(claim);
      this.tasks.track(claim);
    }
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
      this.backoff = Math.min(MAX_CLAIM_BACKOFF, Math.max(100, this.backoff * 2));
      this.logger.error(
        `Claiming commands failed (retrying in ${this.backoff} ms): ${(error as Error).message}`,
        (error as Error).stack,
      );
      if (this.active && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.wake();
        }, this.backoff);
      }
      return;
    }
    this.claimsInFlight--;
    this.reservedSlots -= limit;
    this.backoff = 0;
    for (const entry of claimed) this.startCommand(entry);
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
    } else if (this.claimsInFlight === 0 && this.active) {
      await this.lookUpNextDue(claimed.length > 0);
    }
  }

  /** Arms the due timer from the store; one lookup at a time (one asked for meanwhile runs after it). */
  private async lookUpNextDue(claimedAny: boolean): Promise<void> {
    if (this.dueLookup) {
      this.dueLookupAgain = true;
      return;
    }
    this.dueLookup = true;
    try {
      do {
        this.dueLookupAgain = false;
        const ms = await this.store.msUntilNextDue();
        if (this.active) this.dueTimer.armFor(ms, claimedAny);
      } while (this.dueLookupAgain && this.active);
    } catch (error) {
      this.logger.error(`Looking up the next due time failed: ${(error as Error).message}`);
    } finally {
      this.dueLookup = false;
    }
  }
}
