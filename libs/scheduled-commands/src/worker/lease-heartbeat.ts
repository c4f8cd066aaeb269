import type { Logger } from '@nestjs/common';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import type { HeldCommands } from './held-commands.js';

/**
 * Renews the leases of every held command every `leaseDuration / 3` (at least every 250 ms), and
 * fires the signal of a running handler whose lease turns out to be lost. One renewal at a time: on a
 * slow store a beat that finds the previous one still under way is skipped, so renewals never pile up
 * (each would hold a pool connection).
 */
export class LeaseHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private lastBeat: number | undefined;

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly ledger: HeldCommands,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {}

  /** The pause between beats, in ms. */
  get period(): number {
    return Math.max(250, Math.floor(this.leaseMs / 3));
  }

  /**
   * Milliseconds (monotonic) since the last beat that completed (renewed every lease it held, or had
   * none to renew); `null` when the heartbeat is not started. It grows while the timer does not fire
   * (a blocked event loop) or renewals fail or hang (an unreachable store): the health check reads it.
   */
  get age(): number | null {
    return this.timer && this.lastBeat !== undefined ? performance.now() - this.lastBeat : null;
  }

  start(): void {
    this.lastBeat ??= performance.now();
    this.timer ??= setInterval(() => void this.beat(), this.period);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One renewal (skipped while the previous one is under way). Never rejects. */
  async beat(): Promise<void> {
    if (this.renewing) return;
    const held = this.ledger.all().filter((h) => !h.lost);
    if (held.length === 0) {
      this.lastBeat = performance.now();
      return;
    }
    this.renewing = true;
    try {
      const kept = new Set(
        await this.store.extendLeases(
          held.map((h) => h.lease),
          this.leaseMs,
        ),
      );
      for (const h of held) {
        // Only a running handler is marked lost: a finished one's write finds out by itself. So is
        // one inside its own completing transaction (`context.transaction()`), or past its commit:
        // the row is no longer 'processing' because that transaction completed it (or is about to;
        // the renewal waited on its row lock). If the lease really was lost, the transaction's
        // guarded completion finds no row, rolls back and throws LeaseLostError by itself.
        if (
          !kept.has(h.entry.id) &&
          h.outcome === undefined &&
          !h.inTransaction &&
          h.committed === undefined &&
          this.ledger.isHeld(h)
        ) {
          h.lost = true;
          h.abort.abort(new Error('The lease of this command was lost.'));
          this.logger.warn(`Lost the lease of command ${h.entry.id}; another worker may run it.`);
        }
      }
      this.lastBeat = performance.now();
    } catch (error) {
      this.logger.error(`Renewing leases failed: ${(error as Error).message}`);
    } finally {
      this.renewing = false;
    }
  }
}
