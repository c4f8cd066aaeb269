import type { Lease, ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import type { RunOutcome } from './command-runner.js';
import { LazyAbort } from './lazy-abort.js';
import type { CommittedCompletion, TransactionalRun } from './run-transaction.js';

/**
 * A command this worker holds a lease on, from claim until its outcome is written. Every field is set
 * at creation, so that later changes keep the object's shape (one is made per command).
 */
export interface HeldCommand extends TransactionalRun {
  readonly entry: ScheduledCommandEntry;
  readonly lease: Lease;
  readonly abort: LazyAbort;
  /** Set when the handler finished (or timed out); the outcome then waits to be written. */
  outcome: RunOutcome | undefined;
  /** The lease is gone (lost to another worker, or released at shutdown): nothing more is written. */
  lost: boolean;
  /** Its handler still runs although the run was given up (timeout, shutdown abort). */
  overrun: boolean;
  /** A batch write of its completion failed: that write may have reached the store all the same. */
  uncertain: boolean;
  /** The handler committed the completion in its own transaction (`context.transaction()`). */
  committed: CommittedCompletion | undefined;
  /** The handler's own transaction is under way. */
  inTransaction: boolean;
}

/**
 * The ledger of held commands and of the concurrency slots they use.
 *
 * A slot is taken at claim and freed when the handler has settled, not before: a handler that timed
 * out or was aborted at shutdown still runs (a signal asks, it cannot stop), so it keeps its slot, and
 * the retry of a timed-out command waits for its first run (see {@link previousRun}). A command
 * leaves the ledger ({@link drop}) when its outcome is written or its lease is gone.
 */
export class HeldCommands {
  private readonly byId = new Map<string, HeldCommand>();
  private running = 0;
  private overrunning = 0;
  /** Commands whose timed-out handler still runs, to when that handler settles. */
  private readonly overruns = new Map<string, Promise<void>>();
  private waiters: { readonly ready: () => boolean; readonly resolve: () => void }[] = [];

  constructor(private readonly workerId: string) {}

  /** Commands held (running, or finished and waiting to be written). */
  get size(): number {
    return this.byId.size;
  }

  /** Slots in use: handlers running, including those given up that still run. */
  get runningCount(): number {
    return this.running;
  }

  /** Handlers still running although their run was given up (timed out, or aborted at shutdown). */
  get overrunCount(): number {
    return this.overrunning;
  }

  /** Takes a slot for a claimed entry and holds it under the lease of that claim. */
  hold(entry: ScheduledCommandEntry): HeldCommand {
    const held: HeldCommand = {
      entry,
      lease: { id: entry.id, workerId: this.workerId, attempt: entry.attempts },
      abort: new LazyAbort(),
      outcome: undefined,
      lost: false,
      overrun: false,
      uncertain: false,
      committed: undefined,
      inTransaction: false,
    };
    this.byId.set(entry.id, held);
    this.running++;
    return held;
  }

  /** The held command with this id, if it is this very one (a command can be held again later). */
  isHeld(held: HeldCommand): boolean {
    return this.byId.get(held.entry.id) === held;
  }

  /** Every command held now (a copy). */
  all(): HeldCommand[] {
    return [...this.byId.values()];
  }

  /** Held commands whose handler has not finished yet (a copy). */
  unfinished(): HeldCommand[] {
    return this.all().filter((h) => h.outcome === undefined);
  }

  /**
   * Records how the run of `held` ended. A run that timed out while its handler goes on (`settled` in
   * the outcome) keeps its slot until the handler settles; `onSlotFreed` is called then.
   * @returns whether the run timed out with its handler still running
   */
  finish(held: HeldCommand, outcome: RunOutcome, onSlotFreed: () => void): boolean {
    held.outcome = outcome;
    const settled = outcome.kind === 'failed' ? outcome.settled : undefined;
    if (settled === undefined) {
      this.freeSlot(held);
      return false;
    }
    this.giveUp(held);
    if (this.waiters.length > 0) this.notify();
    const id = held.entry.id;
    this.overruns.set(id, settled);
    void settled.then(() => {
      if (this.overruns.get(id) === settled) this.overruns.delete(id);
      this.freeSlot(held);
      onSlotFreed();
    });
    return true;
  }

  /**
   * Counts `held` as given up while its handler still runs (a timeout, or an abort at shutdown).
   * @returns whether it was not counted already
   */
  giveUp(held: HeldCommand): boolean {
    if (held.overrun) return false;
    held.overrun = true;
    this.overrunning++;
    return true;
  }

  /**
   * A timed-out run of this command whose handler still runs here, as the promise of its end; or
   * `undefined`. Its retry must not start before (one Map lookup, and none at all in the usual case).
   */
  previousRun(id: string): Promise<void> | undefined {
    return this.overruns.size === 0 ? undefined : this.overruns.get(id);
  }

  /** A slot taken for a command that never started (released before its previous run ended). */
  unstarted(held: HeldCommand): void {
    this.running--;
    this.drop(held);
  }

  /** Lets go of `held`: its outcome is written, or its lease is gone. */
  drop(held: HeldCommand): void {
    if (this.byId.get(held.entry.id) === held) this.byId.delete(held.entry.id);
    if (this.waiters.length > 0) this.notify();
  }

  /** Resolves once no command is held. */
  whenEmpty(): Promise<void> {
    return this.when(() => this.byId.size === 0);
  }

  /** Resolves once every held command's handler has finished (or its run was given up). */
  whenNoneRunning(): Promise<void> {
    return this.when(() => {
      for (const held of this.byId.values()) if (held.outcome === undefined) return false;
      return true;
    });
  }

  private freeSlot(held: HeldCommand): void {
    this.running--;
    if (held.overrun) this.overrunning--;
    if (this.waiters.length > 0) this.notify();
  }

  private when(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  private notify(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.ready()) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }
}
