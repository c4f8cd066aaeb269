import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Clock, SystemClock } from './clock.js';
import { CommandExplorer } from './registry/command-explorer.js';
import { CommandRegistry } from './registry/command-registry.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from './scheduled-commands.constants.js';
import {
  ConfigurableScheduledCommandsModule,
  SCHEDULED_COMMANDS_MODULE_OPTIONS,
} from './scheduled-commands.module-definition.js';
import {
  resolveScheduledCommandsOptions,
  type ResolvedScheduledCommandsOptions,
  type ScheduledCommandsModuleOptions,
} from './scheduled-commands.options.js';
import { CommandScheduler } from './scheduling/command-scheduler.service.js';
import { ScheduledCommandStore } from './store/scheduled-command-store.js';
import { ScheduledCommandsWorker } from './worker/scheduled-commands-worker.js';
import { telemetryProvider } from './telemetry/telemetry.provider.js';
import { CommandRunner } from './worker/command-runner.js';
import { PollingInterval } from './worker/polling-interval.js';
import { WorkerSignal } from './worker/worker-signal.js';
import { RecurringMaterializer } from './worker/recurring-materializer.js';
import { LifecycleEvents } from './events/lifecycle-events.js';
import { RecurringScheduler } from './scheduling/recurring-scheduler.js';

/**
 * Durable scheduled CQRS commands. Import once, next to `CqrsModule.forRoot()` and (for the default
 * store) `TypeOrmModule.forRoot({ ..., autoLoadEntities: true })`:
 *
 * ```ts
 * ScheduledCommandsModule.forRoot({ pollingInterval: 5_000, maxRetries: 3 })
 * ScheduledCommandsModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }) })
 * ScheduledCommandsModule.forRoot({ store: MyStore })
 * ```
 *
 * Provides (globally by default) `CommandScheduler`, `ScheduledCommandStore` and `ScheduledCommandsWorker`.
 */
@Module({
  // No ScheduleModule here: a second one would run every @Cron/@Interval job of the host twice.
  imports: [DiscoveryModule],
  providers: [
    {
      provide: SCHEDULED_COMMANDS_RESOLVED_OPTIONS,
      useFactory: (options: ScheduledCommandsModuleOptions) =>
        resolveScheduledCommandsOptions(options),
      inject: [SCHEDULED_COMMANDS_MODULE_OPTIONS],
    },
    {
      provide: Clock,
      useFactory: (options: ResolvedScheduledCommandsOptions) => options.clock ?? new SystemClock(),
      inject: [SCHEDULED_COMMANDS_RESOLVED_OPTIONS],
    },
    LifecycleEvents,
    CommandRegistry,
    CommandExplorer,
    WorkerSignal,
    CommandRunner,
    PollingInterval,
    ScheduledCommandsWorker,
    CommandScheduler,
    RecurringMaterializer,
    RecurringScheduler,
    telemetryProvider,
  ],
  exports: [
    // For the health indicator (nestjs-scheduled-commands/terminus), provided in the host's modules.
    SCHEDULED_COMMANDS_RESOLVED_OPTIONS,
    CommandScheduler,
    ScheduledCommandStore,
    ScheduledCommandsWorker,
    CommandRegistry,
    Clock,
    RecurringMaterializer,
    // For the dashboard's throughput charts (DashboardModule).
    LifecycleEvents,
  ],
})
export class ScheduledCommandsModule extends ConfigurableScheduledCommandsModule {}
