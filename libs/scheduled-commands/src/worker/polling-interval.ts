import { Injectable, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SCHEDULED_COMMANDS_POLLER_INTERVAL } from '../scheduled-commands.constants.js';

/**
 * The worker's safety-net polling interval. When the host application imports `ScheduleModule`
 * (plainly, with options or through `forRootAsync`; it is global), the interval is registered with
 * the host's `SchedulerRegistry` under `SCHEDULED_COMMANDS_POLLER_INTERVAL`, so it shows there with the
 * host's own jobs. Otherwise it is a plain `setInterval`. The library never imports `ScheduleModule`
 * itself: a second one would explore the whole application and run every `@Cron`/`@Interval` job of
 * the host a second time.
 */
@Injectable()
export class PollingInterval {
  private timer: NodeJS.Timeout | undefined;

  constructor(@Optional() private readonly registry?: SchedulerRegistry) {}

  /** Calls `fn` every `ms` milliseconds until {@link stop}; replaces a running interval. */
  start(fn: () => void, ms: number): void {
    this.stop();
    this.timer = setInterval(fn, ms);
    this.registry?.addInterval(SCHEDULED_COMMANDS_POLLER_INTERVAL, this.timer);
  }

  /** Clears the interval (and removes it from the registry); does nothing when none is running. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    if (this.registry?.doesExist('interval', SCHEDULED_COMMANDS_POLLER_INTERVAL)) {
      this.registry.deleteInterval(SCHEDULED_COMMANDS_POLLER_INTERVAL);
    }
    this.timer = undefined;
  }
}
