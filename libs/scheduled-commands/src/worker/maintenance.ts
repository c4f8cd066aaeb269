import type { Logger } from '@nestjs/common';
import type { Clock } from '../clock.js';
import {
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import type { ScheduledCommandStatus } from '../store/scheduled-command-entry.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import type { EventPublisher } from './event-publisher.js';

/** Maintenance work per statement, in rows. */
export const MAINTENANCE_BATCH = 500;
/** Most purge statements per status in one pass: never a long lock, never a long pass. */
const MAX_PURGE_ROUNDS = 20;

type MaintenanceOptions = Pick<
  ResolvedScheduledCommandsOptions,
  'retention' | 'maintenanceInterval'
>;

/**
 * The maintenance part of a polling pass: takes over commands whose lease ran out, expires overdue
 * ones, and (every `maintenanceInterval` by the injected {@link Clock}) purges old finished entries.
 * What is due, expired or out of lease is the store's decision (its clock); the retention cut-offs are
 * computed from the injected clock.
 */
export class Maintenance {
  private lastPurge = -Infinity;

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly options: MaintenanceOptions,
    private readonly clock: Clock,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
  ) {}

  /**
   * One maintenance pass. `stopping` is asked between purge statements, so that a shutdown does not
   * wait for a long purge.
   */
  async run(stopping: () => boolean): Promise<void> {
    const recovered = await this.store.recoverExpiredLeases(MAINTENANCE_BATCH);
    for (const entry of recovered.requeued) {
      this.logger.warn(
        `Command ${entry.id} (${entry.commandType}) was taken over after its lease ran out.`,
      );
      this.events.publish(
        new ScheduledCommandRetryingEvent(
          entry,
          entry.errorMessage ?? '',
          entry.retryCount,
          entry.scheduledFor,
        ),
      );
    }
    for (const entry of recovered.deadLettered) {
      this.events.publish(
        new ScheduledCommandFailedEvent(entry, entry.errorMessage ?? '', entry.retryCount),
      );
    }
    for (const entry of await this.store.expireDue(MAINTENANCE_BATCH)) {
      this.events.publish(new ScheduledCommandExpiredEvent(entry));
    }
    const now = this.clock.now().getTime();
    if (now - this.lastPurge >= this.options.maintenanceInterval) {
      this.lastPurge = now;
      await this.purge(now, stopping);
    }
  }

  private async purge(now: number, stopping: () => boolean): Promise<void> {
    for (const [status, keep] of Object.entries(this.options.retention) as [
      ScheduledCommandStatus,
      number | false,
    ][]) {
      if (keep === false) continue;
      const olderThan = new Date(now - keep);
      for (let i = 0; i < MAX_PURGE_ROUNDS && !stopping(); i++) {
        const deleted = await this.store.purge({
          olderThan,
          statuses: [status],
          limit: MAINTENANCE_BATCH,
        });
        if (deleted < MAINTENANCE_BATCH) break;
      }
    }
  }
}
