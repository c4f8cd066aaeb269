export * from './clock.js';
export * from './errors/index.js';
export * from './events/index.js';
export { ScheduledCommand, getScheduledCommandName, CommandRegistry } from './registry/index.js';
export {
  SCHEDULED_COMMAND_METADATA,
  SCHEDULED_COMMANDS_POLLER_INTERVAL,
  SCHEDULED_COMMANDS_TABLE,
} from './scheduled-commands.constants.js';
export type { ScheduledCommandsModuleExtras } from './scheduled-commands.module-definition.js';
export { SCHEDULED_COMMANDS_MODULE_OPTIONS } from './scheduled-commands.module-definition.js';
export { ScheduledCommandsModule } from './scheduled-commands.module.js';
export {
  SCHEDULED_COMMANDS_DEFAULTS,
  type RetentionOptions,
  type ScheduledCommandsModuleOptions,
  type TelemetryOptions,
} from './scheduled-commands.options.js';
export * from './telemetry/index.js';
export {
  CommandScheduler,
  type ScheduleRequest,
  type RetryOptions,
  type RetryManyOptions,
  type RequeueableStatus,
} from './scheduling/command-scheduler.service.js';
export type { ScheduleOptions } from './scheduling/schedule-options.js';
export type { TransactionOptions } from './scheduling/transaction-scope.js';
export * from './store/index.js';
export * from './store/in-memory/index.js';
export * from './store/typeorm/index.js';
export {
  CommandPoller,
  ScheduledCommandsWorker,
  type WorkerState,
} from './worker/scheduled-commands-worker.js';
export { RecurringMaterializer } from './worker/recurring-materializer.js';
export type { MisfirePolicy, RecurringOptions } from './recurring/recurring-options.js';
export type { RecurringDeclaration } from './recurring/recurring-declaration.js';
export type { RecurringSchedule } from './recurring/recurring-schedule.js';
export {
  getScheduledCommandContext,
  type ScheduledCommandContext,
} from './worker/scheduled-command-context.js';
