import type { Logger } from '@nestjs/common';
import {
  ScheduledCommandCompletedEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import { ScheduledCommandStatus } from '../store/scheduled-command-entry.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import type { BackgroundTasks } from './background-tasks.js';
import type { RunOutcome } from './command-runner.js';
import type { EventPublisher } from './event-publisher.js';
import type { HeldCommand, HeldCommands } from './held-commands.js';
import { retryDelay } from './retry-policy.js';

/** Longest pause between attempts to write to a failing store. */
export const MAX_WRITE_BACKOFF = 5_000;
/** First pause after a failed write. */
const FIRST_WRITE_BACKOFF = 100;

type Failure = Extract<RunOutcome, { kind: 'failed' }>;

/** What the writer tells the rest of the worker. */
export interface OutcomeWriterHost {
  /** Slots or store capacity were freed: claim again. */
  wake(): void;
  /** A retry was written, due after `delay` ms. */
  retryScheduled(delay: number): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the outcomes of finished runs back to the store, then publishes their lifecycle events.
 *
 * - Completions are written in batches: every completion that finished by the next turn of the event
 *   loop goes into one `complete` call. A failed batch is kept (the heartbeat keeps renewing its
 *   leases: a handler that succeeded must not run again because a write failed) and written again
 *   with a growing pause (its own back-off, apart from the claims'). A completion that the failed call
 *   did store all the same (the call can fail part-way) is recognised on the retry by its row, so its
 *   Completed event is published exactly once.
 * - A failure is written at once (a retry, or a dead letter). A failing store is tried again with a
 *   growing pause for up to one `leaseDuration`; then the writer gives up, says so in the log, and
 *   lets go of the command: its lease runs out and a worker pass takes it over, which counts the run
 *   as a failed attempt as well.
 */
export class OutcomeWriter {
  private readonly unwritten: HeldCommand[] = [];
  private flushing = false;
  private flushRetry: NodeJS.Timeout | undefined;
  private backoff = 0;
  private stopped = false;
  private readonly flushNow = (): void => {
    this.tasks.track(this.flushScheduled());
    this.tasks.end(); // the wait for this turn, counted by scheduleFlush
  };

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly ledger: HeldCommands,
    private readonly tasks: BackgroundTasks,
    private readonly events: EventPublisher,
    private readonly options: ResolvedScheduledCommandsOptions,
    private readonly logger: Logger,
    private readonly host: OutcomeWriterHost,
  ) {}

  /** Finished completions not written yet. */
  get unwrittenCount(): number {
    return this.unwritten.length;
  }

  /** Queues the completion of `held` for the next batch write (none when its handler committed it). */
  completed(held: HeldCommand): void {
    if (held.committed !== undefined) {
      this.publishCompleted(held);
      return;
    }
    this.unwritten.push(held);
    this.scheduleFlush();
  }

  /** Writes the failed run of `held` (tracked as background work). */
  failed(held: HeldCommand, outcome: Failure): void {
    this.tasks.track(this.writeFailure(held, outcome));
  }

  /** No more timers: what is left is written by {@link flushUntil}. */
  stop(): void {
    this.stopped = true;
    if (this.flushRetry) clearTimeout(this.flushRetry);
    this.flushRetry = undefined;
  }

  /**
   * Writes what is queued, again and again while the store fails, until `deadline` (monotonic ms).
   * @returns the number of completions still unwritten
   */
  async flushUntil(deadline: number): Promise<number> {
    while (this.unwritten.length > 0 && performance.now() < deadline) {
      await this.flush();
      if (this.unwritten.length > 0) await sleep(100);
    }
    return this.unwritten.length;
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushRetry) return;
    this.flushing = true;
    this.tasks.begin();
    setImmediate(this.flushNow);
  }

  private async flushScheduled(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.flushing = false;
      // After a failed write the retry timer (not this) flushes again: a store that is down is not hammered.
      if (this.unwritten.length > 0 && !this.stopped && !this.flushRetry) this.scheduleFlush();
    }
  }

  /** Writes every queued completion in one store call, then publishes their events. */
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
      for (const held of batch) held.uncertain = true;
      this.unwritten.unshift(...batch);
      this.retryFlushLater(batch.length, error as Error);
      return;
    }
    this.backoff = 0;
    let unsure: HeldCommand[] | undefined;
    for (const held of batch) {
      if (written.has(held.entry.id)) this.publishCompleted(held);
      else if (held.uncertain) (unsure ??= []).push(held);
      else this.lostCompletion(held);
    }
    if (unsure) await this.confirmCompletions(unsure);
    this.host.wake();
  }

  /** Completions missing from a write after an earlier write failed: did that one store them? */
  private async confirmCompletions(batch: HeldCommand[]): Promise<void> {
    for (const held of batch) {
      let row;
      try {
        row = await this.store.get(held.entry.id);
      } catch (error) {
        this.unwritten.push(held);
        this.retryFlushLater(1, error as Error);
        continue;
      }
      // Completed under this very attempt: only this lease could write that (`attempts` is its fence).
      if (row?.status === ScheduledCommandStatus.Completed && row.attempts === held.lease.attempt) {
        this.publishCompleted(held);
      } else this.lostCompletion(held);
    }
  }

  private publishCompleted(held: HeldCommand): void {
    this.ledger.drop(held);
    const outcome = held.outcome as Extract<RunOutcome, { kind: 'completed' }>;
    this.events.publish(new ScheduledCommandCompletedEvent(held.entry, outcome.result));
  }

  private lostCompletion(held: HeldCommand): void {
    this.ledger.drop(held);
    this.logger.warn(
      `Command ${held.entry.id} completed after its lease was lost; another worker owns it now.`,
    );
  }

  private retryFlushLater(count: number, error: Error): void {
    this.backoff = Math.min(MAX_WRITE_BACKOFF, Math.max(FIRST_WRITE_BACKOFF, this.backoff * 2));
    this.logger.error(
      `Writing ${count} completion(s) failed (retrying in ${this.backoff} ms): ${error.message}`,
    );
    if (this.stopped || this.flushRetry) return;
    this.flushRetry = setTimeout(() => {
      this.flushRetry = undefined;
      this.scheduleFlush();
    }, this.backoff);
  }

  /** Writes a failed attempt: a retry after the back-off delay, or a dead letter. */
  private async writeFailure(held: HeldCommand, outcome: Failure): Promise<void> {
    const { entry } = held;
    const retry = !outcome.permanent && entry.retryCount < entry.maxRetries;
    const what = retry ? 'retry' : 'dead letter';
    const giveUpAt = performance.now() + this.options.leaseDuration;
    for (let attempt = 1, backoff = FIRST_WRITE_BACKOFF; !held.lost; attempt++) {
      try {
        await (retry ? this.writeRetry(held, outcome) : this.writeDeadLetter(held, outcome));
        break;
      } catch (error) {
        const message = (error as Error).message;
        if (
          performance.now() + backoff > giveUpAt ||
          (this.stopped && backoff >= MAX_WRITE_BACKOFF)
        ) {
          this.logger.error(
            `Gave up writing the ${what} of command ${entry.id} (${entry.commandType}) after ${attempt} attempt(s): ${message}. Its lease is no longer renewed: it runs out within ${this.options.leaseDuration} ms, then a worker pass takes the command over (counted as a failed attempt).`,
          );
          break;
        }
        this.logger.error(
          `Writing the ${what} of command ${entry.id} failed (attempt ${attempt}, next in ${backoff} ms): ${message}`,
        );
        await sleep(backoff);
        backoff = Math.min(MAX_WRITE_BACKOFF, backoff * 2);
      }
    }
    this.ledger.drop(held);
    this.host.wake();
  }

  private async writeRetry(held: HeldCommand, outcome: Failure): Promise<void> {
    const { entry } = held;
    const delay = retryDelay(entry.retryCount + 1, this.options);
    const updated = await this.store.retry(held.lease, outcome.error, delay);
    if (!updated) return;
    this.logger.warn(
      `Command ${entry.id} (${entry.commandType}) failed, retry ${updated.retryCount}/${updated.maxRetries} in ${delay} ms: ${outcome.error}`,
    );
    this.events.publish(
      new ScheduledCommandRetryingEvent(
        updated,
        outcome.error,
        updated.retryCount,
        updated.scheduledFor,
      ),
    );
    this.host.retryScheduled(delay);
  }

  private async writeDeadLetter(held: HeldCommand, outcome: Failure): Promise<void> {
    const { entry } = held;
    const updated = await this.store.deadLetter(held.lease, outcome.error);
    if (!updated) return;
    this.logger.error(
      `Command ${entry.id} (${entry.commandType}) dead-lettered after ${updated.retryCount} retries: ${outcome.error}`,
    );
    this.events.publish(
      new ScheduledCommandFailedEvent(updated, outcome.error, updated.retryCount),
    );
  }
}
